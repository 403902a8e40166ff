# shellcheck shell=bash
# lib-cluster.sh: start, watch and stop a multi-process NTP-MC cluster on
# loopback, for the integration tests (tests/integration/cluster-*.sh), the
# benchmark (tests/bench/cluster-bench.sh) and tools/run-local.sh.
#
# Source it, then:
#   lc_setup [DIR]            work dir (mktemp -d unless given); cleanup trap
#   lc_conf I [EXTRA...]      write member I's config (random free ports)
#   lc_init I                 ntpnode init for member I; sets LC_TOKEN
#   lc_join I [TOKEN]         ntpnode join with a token file (LC_TOKEN)
#   lc_run I                  ntpnode run (restart)
#   lc_ctl I ARGS...          ntpctl against member I's control socket
#   lc_status_json I          cluster status -o json from member I
#   lc_wait_leader [SECS] [I...]  wait for a leader seen by the members;
#                             prints its member index (1..N)
#   lc_wait_voters N [SECS]   wait until the leader reports N voters
#   lc_kill9 I / lc_stop I    stop member I by its recorded PID
#   lc_cleanup                stop every member started here (by PID)
#   lc_fake_cloud             members become VMs of the fake provider
#                             (infra/providers/fake, path in LC_FAKE)
#   lc_fake_vm I              member I's "VM" start script
#   lc_fake_adopt I...        the fake cloud owns members I... from now on
#
# Every daemon runs with `discipline virtual` and without CAP_SYS_TIME, on
# 127.0.0.1 ports picked at random and checked free (a member that loses a
# port race exits and is retried by the caller's wait loop failing loudly).
# Needs NTPNODE and NTPCTL (paths to the binaries) and jq.

: "${NTPNODE:?NTPNODE must name the ntpnode binary}"
: "${NTPCTL:?NTPCTL must name the ntpctl binary}"

LC_DIR=
LC_TOKEN=
LC_KEEP=${LC_KEEP:-0}
declare -gA LC_PID=()

lc_log() { echo "[$(date -u +%H:%M:%S.%3N)] $*" >&2; }
lc_fail() {
	lc_log "FAIL: $*"
	lc_dump_logs
	exit 1
}

lc_setup() {
	if [ -n "${1:-}" ]; then
		LC_DIR=$1
		mkdir -p "$LC_DIR"
	else
		LC_DIR=$(mktemp -d /tmp/ntpmc-lc.XXXXXX)
	fi
	trap lc_cleanup EXIT
	trap 'exit 130' INT TERM
}

# The capability drop: a daemon started here can never change the clock.
# setpriv execs the daemon, so the PID the shell records is ntpnode's.
LC_SETPRIV=()
if command -v setpriv >/dev/null &&
	setpriv --bounding-set=-sys_time --inh-caps=-sys_time true 2>/dev/null; then
	LC_SETPRIV=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)
fi

# A random high port that nothing listens on now (TCP and UDP) and that
# this run has not handed out before: members' configs are written before
# they start, so "free now" alone once gave n3 and n4 the same NTP port
# (n4 then could not bind and its join never completed). The record is a
# file because callers run this in a command substitution's subshell.
# Below the kernel's ephemeral range (32768-60999 by default): a port picked
# there can be taken as the source port of an outgoing connection (members
# dial each other) between the pick and the bind.
lc_free_port() {
	local p i used=$LC_DIR/ports-given
	for i in $(seq 1 50); do
		p=$((12000 + RANDOM % 20000))
		if grep -qx "$p" "$used" 2>/dev/null; then
			continue
		fi
		if ! ss -Htaun 2>/dev/null | awk '{print $5}' |
			grep -q ":$p\$"; then
			echo "$p" >>"$used"
			echo "$p"
			return 0
		fi
	done
	return 1
}

lc_memdir() { echo "$LC_DIR/n$1"; }
lc_sock() { echo "$LC_DIR/n$1/ctl.sock"; }
lc_cport() { cat "$LC_DIR/n$1/cport"; }
lc_nport() { cat "$LC_DIR/n$1/nport"; }

# lc_conf I [EXTRA DIRECTIVE LINES...]: a member serving its own clock at
# `local stratum 10`, unless an extra line names an upstream or pool, or
# LC_NO_LOCAL=1 (a member with no time source at all); its provider is
# LC_PROVIDER, else other.
lc_conf() {
	local i=$1 d cport nport
	shift
	d=$(lc_memdir "$i")
	mkdir -p "$d/data"
	cport=$(lc_free_port) || lc_fail "no free port"
	nport=$(lc_free_port) || lc_fail "no free port"
	echo "$cport" >"$d/cport"
	echo "$nport" >"$d/nport"
	{
		echo "# member $i of a loopback test cluster"
		echo "node-name n$i"
		echo "datadir $d/data"
		echo "control $d/ctl.sock"
		echo "listen 127.0.0.1 port $nport"
		echo "serve-threads 1"
		echo "discipline virtual"
		case " $* " in
		*" upstream "* | *" pool "*) ;;
		*) [ "${LC_NO_LOCAL:-0}" = 1 ] || echo "local stratum 10" ;;
		esac
		echo "cluster-listen 127.0.0.1 port $cport"
		echo "provider ${LC_PROVIDER:-other}"
		echo "region loopback"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$d/ntpnode.conf"
}

# lc_start I CMD [ARGS...]: start ntpnode CMD -c conf in the background.
lc_start() {
	local i=$1 cmd=$2 d
	shift 2
	d=$(lc_memdir "$i")
	"${LC_SETPRIV[@]}" "$NTPNODE" "$cmd" -c "$d/ntpnode.conf" "$@" \
		>>"$d/stdout" 2>>"$d/stderr" </dev/null &
	LC_PID[$i]=$!
	echo "${LC_PID[$i]}" >"$d/pid"
}

lc_alive() {
	local pid=${LC_PID[$1]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Waits (up to SECS) for a command to succeed.
lc_until() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) + secs * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

lc_sock_up() { [ -S "$(lc_sock "$1")" ] && lc_ctl "$1" cluster status >/dev/null 2>&1; }

# init prints the token alone on its last stdout line, then opens the
# control socket.
lc_init() {
	local i=$1 d
	d=$(lc_memdir "$i")
	lc_start "$i" init
	lc_until 20 lc_sock_up "$i" || lc_fail "n$i: init did not come up"
	LC_TOKEN=$(tail -n 1 "$d/stdout")
	[ -n "$LC_TOKEN" ] || lc_fail "n$i: init printed no token"
}

# lc_join I [TOKEN] (without waiting); the token goes through a file, so it
# never shows in ps.
lc_join_bg() {
	local i=$1 tok=${2:-$LC_TOKEN} d
	d=$(lc_memdir "$i")
	(umask 077 && printf '%s\n' "$tok" >"$d/token")
	lc_start "$i" join --token-file "$d/token"
}

lc_join() {
	lc_join_bg "$@"
	lc_until 30 lc_sock_up "$1" || lc_fail "n$1: join did not complete"
}

lc_run() {
	lc_start "$1" run
	lc_until 20 lc_sock_up "$1" || lc_fail "n$1: run did not come up"
}

lc_ctl() {
	local i=$1
	shift
	timeout 10 "$NTPCTL" -s "$(lc_sock "$i")" "$@"
}

lc_status_json() { lc_ctl "$1" -o json cluster status 2>/dev/null; }

# Member index of a raft id, by the node-name n<I>.
lc_index_of_name() { echo "${1#n}"; }

# Prints the index of the leader if member I (view "leader") reports one.
lc_leader_seen_by() {
	local j name
	j=$(lc_status_json "$1") || return 1
	name=$(jq -r 'select(.view=="leader" and .leader_id!=null)
		| .members[] | select(.is_leader) | .name' <<<"$j") || return 1
	[ -n "$name" ] || return 1
	lc_index_of_name "$name"
}

# lc_wait_leader [SECS] [I...]: a leader agreed on by the given live members
# (default: all live members); prints its index.
lc_wait_leader() {
	local secs=${1:-10} end i l first ok
	shift || true
	local members=("$@")
	if [ ${#members[@]} -eq 0 ]; then
		for i in "${!LC_PID[@]}"; do
			lc_alive "$i" && members+=("$i")
		done
	fi
	end=$(($(date +%s%N) + secs * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		first=
		ok=1
		for i in "${members[@]}"; do
			l=$(lc_leader_seen_by "$i") || { ok=0; break; }
			[ -z "$first" ] && first=$l
			[ "$l" = "$first" ] || { ok=0; break; }
		done
		if [ "$ok" = 1 ] && [ -n "$first" ]; then
			echo "$first"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

lc_count_role() {
	jq -r --arg r "$2" '[.members[] | select(.role==$r)] | length' <<<"$1"
}

# lc_wait_voters N [SECS]: the leader lists N voters, all reachable.
lc_voters_are() {
	local n=$1 l j
	l=$(lc_wait_leader 1) || return 1
	j=$(lc_status_json "$l") || return 1
	[ "$(lc_count_role "$j" voter)" = "$n" ] &&
		[ "$(jq '[.members[]|select(.role=="voter" and .reachable)]|length' \
			<<<"$j")" = "$n" ]
}
lc_wait_voters() { lc_until "${2:-20}" lc_voters_are "$1"; }

lc_kill9() {
	local pid=${LC_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "LC_PID[$1]"
}

lc_stop() {
	local pid=${LC_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "LC_PID[$1]"
}

lc_dump_logs() {
	local f
	[ -n "$LC_DIR" ] || return 0
	for f in "$LC_DIR"/n*/stderr; do
		[ -f "$f" ] || continue
		echo "----- $f (last 40 lines)" >&2
		tail -n 40 "$f" >&2
	done
}

lc_cleanup() {
	local i d
	for i in "${!LC_PID[@]}"; do
		lc_stop "$i"
	done
	# whatever the fake cloud started, by the PIDs it recorded
	if [ -n "${NTPMC_FAKE_CLOUD:-}" ]; then
		for d in "$NTPMC_FAKE_CLOUD"/*/; do
			[ -s "$d/pid" ] || continue
			kill -9 "$(cat "$d/pid")" 2>/dev/null || true
		done
	fi
	# A test-mounted file system (cluster-disk.sh) goes before the rm.
	if [ -n "${LC_UMOUNT:-}" ]; then
		umount "$LC_UMOUNT" 2>/dev/null || true
	fi
	if [ -n "$LC_DIR" ] && [ "$LC_KEEP" != 1 ]; then
		rm -rf "$LC_DIR"
	fi
}

# The fake provider keeps each VM as a directory under NTPMC_FAKE_CLOUD: a
# start script, the PID of what runs, hook markers. Skips (77) without what
# it needs. Call after lc_setup.
lc_fake_cloud() {
	LC_FAKE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/infra/providers/fake
	[ -x "$LC_FAKE" ] || lc_fail "no $LC_FAKE"
	command -v flock >/dev/null || exit 77
	export LC_PROVIDER=fake
	export NTPMC_FAKE_CLOUD=$LC_DIR/cloud
	mkdir -p "$NTPMC_FAKE_CLOUD"
}

lc_fake_vm() {
	mkdir -p "$NTPMC_FAKE_CLOUD/n$1"
	{
		echo '#!/bin/sh'
		echo "exec ${LC_SETPRIV[*]} '$NTPNODE' run -c '$(lc_memdir "$1")/ntpnode.conf'"
	} >"$NTPMC_FAKE_CLOUD/n$1/start"
	chmod +x "$NTPMC_FAKE_CLOUD/n$1/start"
}

# The fake cloud records members I... as its running VMs: it stops and
# starts them from now on, and lc_cleanup kills them by its PID files.
lc_fake_adopt() {
	local i
	for i in "$@"; do
		echo "${LC_PID[$i]}" >"$NTPMC_FAKE_CLOUD/n$i/pid"
	done
}
