#!/usr/bin/env bash
# The README's main command: takes a fresh Debian 12 machine (as root) to a
# local 3-member NTP-MC cluster on loopback, returns once it has a leader,
# and prints `ntpctl cluster status`.
#   tools/run-local.sh          install deps, build Release, start n1 n2 n3
#   tools/run-local.sh stop     stop what it started (by the recorded PIDs)
#   tools/run-local.sh status   are they running; cluster status
# Everything lives in build/local/NAME/: the config (written from the
# template below), datadir, control socket, log and PID file. n1 runs
# `ntpnode init`, n2 and n3 `ntpnode join` with tokens; a second start
# finds the datadirs and runs them again. The members run without
# CAP_SYS_TIME and with the virtual discipline: they never change this
# machine's clock. Ports (none root-only): NTP 11123-11125, cluster
# 14461-14463 (NTPMC_LOCAL_PORT / NTPMC_LOCAL_CPORT move the bases).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
state=$top/build/local
build=$top/build/release
base_port=${NTPMC_LOCAL_PORT:-11123}
base_cport=${NTPMC_LOCAL_CPORT:-14461}
ctl=$build/tools/ntpctl

nodes=(n1 n2 n3)

node_index() { echo "${1#n}"; }
node_port() { echo $((base_port + $(node_index "$1") - 1)); }
node_cport() { echo $((base_cport + $(node_index "$1") - 1)); }
node_dir() { echo "$state/$1"; }
node_pidfile() { echo "$(node_dir "$1")/ntpnode.pid"; }
node_sock() { echo "$(node_dir "$1")/ctl.sock"; }

# node_pid NAME: prints the PID if that ntpnode is running.
node_pid() {
	local f pid
	f=$(node_pidfile "$1")
	[ -f "$f" ] || return 1
	pid=$(<"$f")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	# The PID may have been reused since: check it is still ntpnode.
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ntpnode ] || return 1
	echo "$pid"
}

write_conf() {
	local d
	d=$(node_dir "$1")
	mkdir -p "$d/data"
	cat >"$d/ntpnode.conf" <<-EOF
	# Written by tools/run-local.sh: member $1 of a local cluster.
	node-name $1
	listen 127.0.0.1 port $(node_port "$1")
	local stratum 10
	discipline virtual
	datadir $d/data
	control $(node_sock "$1")
	cluster-listen 127.0.0.1 port $(node_cport "$1")
	provider other
	region local
	EOF
}

# start_node NAME [TOKEN]: init (n1), join (with TOKEN) or, when the
# datadir already holds a cluster, run.
start_node() {
	local d pid cmd=run
	d=$(node_dir "$1")
	if pid=$(node_pid "$1"); then
		echo "run-local: $1 already running (PID $pid)"
		return 0
	fi
	write_conf "$1"
	if [ ! -e "$d/data/store" ]; then
		if [ "$1" = n1 ]; then cmd="init"; else cmd="join"; fi
	fi
	if [ "$cmd" = join ]; then
		(umask 077 && printf '%s\n' "$2" >"$d/token")
		set -- "$1" --token-file "$d/token"
	else
		set -- "$1"
	fi
	# setpriv execs ntpnode, so $! is the daemon's PID.
	nohup setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$build/node/ntpnode" "$cmd" -c "$d/ntpnode.conf" "${@:2}" \
		</dev/null >>"$d/stdout" 2>>"$d/ntpnode.log" &
	pid=$!
	echo "$pid" >"$(node_pidfile "$1")"
	# Until nohup and setpriv have exec'd ntpnode, node_pid does not
	# recognise the PID, and the waits below took the member for dead.
	for _ in $(seq 100); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ntpnode ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
}

# wait_member NAME: up to 30 s for its control socket (opened once it is a
# committed member).
wait_member() {
	for _ in $(seq 150); do
		if ! node_pid "$1" >/dev/null; then
			echo "run-local: $1 exited; its log:" >&2
			tail -n 20 "$(node_dir "$1")/ntpnode.log" >&2
			return 1
		fi
		"$ctl" -s "$(node_sock "$1")" cluster status >/dev/null \
			2>&1 && return 0
		sleep 0.2
	done
	echo "run-local: $1 did not become a member within 30 s" >&2
	return 1
}

# wait_leader: up to 30 s for a leader with every member a voter.
wait_leader() {
	local j
	for _ in $(seq 150); do
		j=$("$ctl" -s "$(node_sock n1)" -o json cluster status \
			2>/dev/null) || j=
		if grep -q '"view":"leader"' <<<"$j" &&
			[ "$(grep -o '"role":"voter"' <<<"$j" | wc -l)" = \
				"${#nodes[@]}" ]; then
			return 0
		fi
		sleep 0.2
	done
	echo "run-local: no leader with ${#nodes[@]} voters within 30 s" >&2
	return 1
}

# wait_serving NAME: up to 10 s for one valid NTP reply.
wait_serving() {
	local pid port
	port=$(node_port "$1")
	for _ in $(seq 50); do
		if ! pid=$(node_pid "$1"); then
			echo "run-local: ntpnode exited; its log:" >&2
			tail -n 20 "$(node_dir "$1")/ntpnode.log" >&2
			return 1
		fi
		# Our PID must hold the port: a reply could come from somebody
		# else's server if ours failed to bind.
		if [[ "$(ss -Huanp "sport = :$port" 2>/dev/null)" == *"pid=$pid,"* ]] &&
			"$build/tools/ntpbench" -p "$port" -n 1 -t 200 >/dev/null 2>&1; then
			echo "run-local: ntpnode (PID $pid) serves NTP on 127.0.0.1:$port"
			return 0
		fi
		sleep 0.2
	done
	echo "run-local: no NTP reply from 127.0.0.1:$port within 10 s" >&2
	return 1
}

stop_node() {
	local pid
	if ! pid=$(node_pid "$1"); then
		echo "run-local: $1 not running"
		rm -f "$(node_pidfile "$1")"
		return 0
	fi
	kill "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "run-local: PID $pid did not stop within 10 s" >&2
		return 1
	fi
	rm -f "$(node_pidfile "$1")"
	echo "run-local: stopped $1 (PID $pid)"
}

print_usage_hints() {
	local rel=${build#"$top"/} st=${state#"$top"/}
	cat <<-EOF

	Query it (n1 n2 n3 serve NTP on 127.0.0.1:$base_port..$((base_port + 2))):
	  $rel/tools/ntpbench -p $base_port -n 1          # one request, validated
	Its counters (received, replied, dropped by reason, KoD, rate, reply time):
	  $rel/tools/ntpctl -s $st/n1/ctl.sock serverstats
	The cluster, from any member:
	  $rel/tools/ntpctl -s $st/n2/ctl.sock cluster status
	  $rel/tools/ntpctl -s $st/n1/ctl.sock config set log-level debug
	  $rel/tools/ntpctl -s $st/n3/ctl.sock leader transfer
	Logs: $st/n*/ntpnode.log    Stop: tools/run-local.sh stop
	EOF
}

case "${1:-start}" in
start)
	if [ "$(id -u)" -eq 0 ]; then
		tools/install-deps.sh
	else
		echo "run-local: not root, not installing dependencies"
	fi
	echo "run-local: building Release in ${build#"$top"/}"
	CC=${CC:-gcc} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$build" -j"$(nproc)" >/dev/null
	mkdir -p "$state"
	token=
	for n in "${nodes[@]}"; do
		if [ "$n" != n1 ] && [ ! -e "$(node_dir "$n")/data/store" ]; then
			token=$("$ctl" -s "$(node_sock n1)" token create) || {
				echo "run-local: no join token from n1" >&2
				exit 1
			}
		fi
		start_node "$n" "$token"
		if ! wait_member "$n" || ! wait_serving "$n"; then
			for m in "${nodes[@]}"; do stop_node "$m" >/dev/null; done
			exit 1
		fi
	done
	wait_leader || exit 1
	"$ctl" -s "$(node_sock n1)" cluster status
	print_usage_hints
	;;
stop)
	rc=0
	for n in "${nodes[@]}"; do
		stop_node "$n" || rc=1
	done
	exit $rc
	;;
status)
	for n in "${nodes[@]}"; do
		if pid=$(node_pid "$n"); then
			echo "run-local: $n running (PID $pid), NTP on 127.0.0.1:$(node_port "$n")"
		else
			echo "run-local: $n not running"
		fi
	done
	for n in "${nodes[@]}"; do
		if node_pid "$n" >/dev/null; then
			"$ctl" -s "$(node_sock "$n")" cluster status || true
			break
		fi
	done
	;;
*)
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
