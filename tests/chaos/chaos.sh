#!/usr/bin/env bash
# chaos.sh: a cluster of real ntpnode processes, each in its own network
# namespace on one bridge, under seeded faults while a client writes and
# reads continuously; after each round everything is healed and checked:
# every acknowledged write is in every member's replicated state, the
# members' FSM state hashes are equal, and no read right after a write on
# the same member missed it.
#
#   chaos.sh [-n MEMBERS] [-s SEED] [-r ROUNDS] [-t SECONDS] [-k]
#     -n  members, 3 or 5 (default 3)
#     -s  seed of the fault schedule (default 1)
#     -r  rounds (default 1); -t  seconds of faults per round (default 40)
#     -k  keep the work dir (logs, backups)
#   env: NTPNODE, NTPCTL, CHAOSDUMP (binaries)
#
# Faults, one at a time, each healed before the next: kill -9 of a member
# and its restart; SIGSTOP then SIGCONT; a partition (the member's link
# down in its namespace) and heal; a full disk (the member's datadir is a
# small tmpfs, filled, then emptied; a member that stopped on it is
# restarted). The writer sets budget-usd to a new value each time through
# a random member and reads it back from that member at once; a reader
# reads from random members. The last line sums it up:
#   chaos: 3 members, seed 37, 1 round of 40 s: 7 faults (kill9 2, stop 2,
#   partition 1, disk 2), writes 312 acked 40 failed, reads 598, stale 0,
#   lost 0, divergent 0
# Exit 0 when lost, divergent and stale are all 0 and every round
# converged; 1 otherwise; 77 when it cannot run here (needs root).
# Everything it creates it deletes: processes by PID, namespaces by name;
# the datadirs' tmpfs mounts live in a private mount namespace.
set -euo pipefail

n=3 seed=1 rounds=1 secs=40 keep=0
while getopts "n:s:r:t:k" o; do
	case $o in
	n) n=$OPTARG ;;
	s) seed=$OPTARG ;;
	r) rounds=$OPTARG ;;
	t) secs=$OPTARG ;;
	k) keep=1 ;;
	*) sed -n '2,28p' "$0" >&2; exit 2 ;;
	esac
done
case $n in 3 | 5) ;; *) echo "chaos: -n takes 3 or 5" >&2; exit 2 ;; esac
: "${NTPNODE:?NTPNODE must name the ntpnode binary}"
: "${NTPCTL:?NTPCTL must name the ntpctl binary}"
: "${CHAOSDUMP:?CHAOSDUMP must name the chaosdump binary}"

skip() { echo "chaos: SKIP: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip setpriv jq unshare mount timeout; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done
# The datadirs' tmpfs mounts go away with this private mount namespace.
if [ "${CH_IN_NS:-}" != 1 ]; then
	unshare -m true 2>/dev/null || skip "cannot make a mount namespace"
	CH_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

# Unique per run (ctest runs chaos-3 and chaos-5 side by side).
tag=$(printf '%x' $(($$ % 65536)))
hub="ntpmc-ch$tag-hub"
work=$(mktemp -d /tmp/ntpmc-chaos.XXXXXX)
declare -a pids=() nss=()
clients=()
RANDOM=$seed

log() { echo "[$(date -u +%H:%M:%S.%3N)] $*" >&2; }

cleanup() {
	local p ns i
	for p in "${clients[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for i in "${!pids[@]}"; do
		p=${pids[$i]}
		[ -n "$p" ] || continue
		kill -CONT "$p" 2>/dev/null || true
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for i in $(seq 1 "$n"); do
		umount "$work/n$i/data" 2>/dev/null || true
	done
	for ns in "${nss[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ "$keep" = 1 ]; then
		log "work dir kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	local f
	log "FAIL: $*"
	for f in "$work"/n*/log; do
		[ -f "$f" ] || continue
		echo "----- $f (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

ns_of() { echo "ntpmc-ch$tag-$1"; }
addr_of() { echo "10.231.0.$1"; }
sock() { echo "$work/n$1/ctl.sock"; }
ctl() {
	local i=$1
	shift
	timeout 3 "$NTPCTL" -s "$(sock "$i")" "$@"
}
alive() { [ -n "${pids[$1]:-}" ] && kill -0 "${pids[$1]}" 2>/dev/null; }

until_ok() {
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---- the network: a bridge in a hub namespace, one namespace per member --
ip netns add "$hub"
nss+=("$hub")
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 up
for i in $(seq 1 "$n"); do
	ns=$(ns_of "$i")
	ip netns add "$ns"
	nss+=("$ns")
	ip -n "$hub" link add "m$i" type veth peer name eth0 netns "$ns"
	ip -n "$hub" link set "m$i" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$(addr_of "$i")/24" dev eth0
	ip -n "$ns" link set eth0 up
done

# ---- members -------------------------------------------------------------
for i in $(seq 1 "$n"); do
	d=$work/n$i
	mkdir -p "$d/data"
	mount -t tmpfs -o size=16m,mode=0700 "ntpmc-ch$tag" "$d/data"
	cat >"$d/ntpnode.conf" <<EOF
# chaos member $i
node-name n$i
datadir $d/data
control $d/ctl.sock
listen $(addr_of "$i") port 12300
serve-threads 1
discipline virtual
local stratum 10
cluster-listen $(addr_of "$i") port 4460
provider other
region chaos
EOF
done

# start I CMD [ARGS...]: in its namespace, without CAP_SYS_TIME.
start() {
	local i=$1 cmd=$2
	shift 2
	ip netns exec "$(ns_of "$i")" \
		setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$NTPNODE" "$cmd" -c "$work/n$i/ntpnode.conf" "$@" \
		>>"$work/n$i/stdout" 2>>"$work/n$i/log" </dev/null &
	pids[i]=$!
}

sock_up() { [ -S "$(sock "$1")" ] && ctl "$1" cluster status >/dev/null 2>&1; }

# The member index of the leader member I sees, if it sees one.
leader_seen_by() {
	local j name
	j=$(ctl "$1" -o json cluster status 2>/dev/null) || return 1
	name=$(jq -r 'select(.view=="leader" and .leader_id!=null)
		| .members[] | select(.is_leader) | .name' <<<"$j") || return 1
	[ -n "$name" ] && echo "${name#n}"
}

# Every member sees the same leader, which reports n reachable voters.
converged() {
	local i l first="" j
	for i in $(seq 1 "$n"); do
		l=$(leader_seen_by "$i") || return 1
		[ -z "$first" ] && first=$l
		[ "$l" = "$first" ] || return 1
	done
	j=$(ctl "$first" -o json cluster status 2>/dev/null) || return 1
	[ "$(jq '[.members[]|select(.role=="voter" and .reachable)]|length' \
		<<<"$j")" = "$n" ]
}

log "init n1, join $((n - 1)) (work dir $work)"
start 1 init
until_ok 30 sock_up 1 || fail "n1: init did not come up"
token=$(tail -n 1 "$work/n1/stdout")
[ -n "$token" ] || fail "init printed no token"
(umask 077 && printf '%s\n' "$token" >"$work/token")
for i in $(seq 2 "$n"); do
	[ "$i" = 2 ] || {
		ctl 1 token create >"$work/token.$i" || fail "token create"
		cp "$work/token.$i" "$work/token"
	}
	start "$i" join --token-file "$work/token"
	until_ok 60 sock_up "$i" || fail "n$i: join did not complete"
done
until_ok 90 converged || fail "the cluster did not form: $n voters"

# ---- clients ---------------------------------------------------------------
# writer SEQ0 ROUND: sets budget-usd to SEQ.00 through a random member, one
# after the other (one writer: values only grow), and reads it back from
# the same member right after its answer. Stops at the stop file, or after
# 700 writes (the audit trail keeps the last 1,000 events: a round's
# writes must all still be in it when it is checked).
writer() {
	local seq=$1 r=$2 i got k=0
	exec >>"$work/writes.$r" 2>&1
	while [ ! -e "$work/stop" ] && [ "$k" -lt 700 ]; do
		i=$((RANDOM % n + 1))
		if ctl "$i" config set budget-usd "$seq.00" >/dev/null 2>&1; then
			echo "ack $seq $i"
			if got=$(ctl "$i" config get budget-usd 2>/dev/null); then
				got=$(awk '{print $2}' <<<"$got")
				if [ "$got" = "$seq.00" ]; then
					echo "read $seq $i"
				else
					echo "stale $seq $i ${got:-?}"   # checked later
				fi
			fi
		else
			echo "fail $seq $i"
		fi
		seq=$((seq + 1))
		k=$((k + 1))
	done
	while [ ! -e "$work/stop" ]; do sleep 0.2; done
	echo "next $seq"
}

reader() {
	local r=$1 i
	exec >>"$work/reads.$r" 2>&1
	while [ ! -e "$work/stop" ]; do
		i=$((RANDOM % n + 1))
		if ctl "$i" config get budget-usd >/dev/null 2>&1; then
			echo "ok $i"
		else
			echo "fail $i"
		fi
		sleep 0.05
	done
}

# ---- faults ----------------------------------------------------------------
declare -A nfault=([kill9]=0 [stop]=0 [partition]=0 [disk]=0)
faults_total=0

fill() { dd if=/dev/zero of="$work/n$1/data/filler" bs=64k 2>/dev/null || true; }

fault() {
	local kind=$1 v=$2 dur=$3 ns
	ns=$(ns_of "$v")
	log "fault: $kind n$v for ${dur}s"
	case $kind in
	kill9)
		kill -9 "${pids[$v]}" 2>/dev/null || true
		wait "${pids[$v]}" 2>/dev/null || true
		sleep "$dur"
		start "$v" run
		;;
	stop)
		kill -STOP "${pids[$v]}" 2>/dev/null || true
		sleep "$dur"
		kill -CONT "${pids[$v]}" 2>/dev/null || true
		;;
	partition)
		ip -n "$ns" link set eth0 down
		sleep "$dur"
		ip -n "$ns" link set eth0 up
		;;
	disk)
		fill "$v"
		sleep "$dur"
		rm -f "$work/n$v/data/filler"
		;;
	esac
	nfault[$kind]=$((nfault[$kind] + 1))
	faults_total=$((faults_total + 1))
}

# Everything back: links up, stopped members continued, disks emptied,
# members that died (a full disk stops one) restarted.
heal() {
	local i
	for i in $(seq 1 "$n"); do
		ip -n "$(ns_of "$i")" link set eth0 up
		rm -f "$work/n$i/data/filler"
		kill -CONT "${pids[$i]}" 2>/dev/null || true
		if ! alive "$i"; then
			wait "${pids[$i]}" 2>/dev/null || true
			log "n$i had stopped ($(tail -n 1 "$work/n$i/log")): restart"
			start "$i" run
		fi
	done
}

# ---- rounds ----------------------------------------------------------------
seq=1
acked_all=0 failed_all=0 reads_all=0 stale_all=0 lost_all=0 div_all=0
kinds=(kill9 stop partition disk)
for r in $(seq 1 "$rounds"); do
	rm -f "$work/stop"
	writer "$seq" "$r" &
	clients=($!)
	reader "$r" &
	clients+=($!)
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		fault "${kinds[RANDOM % 4]}" $((RANDOM % n + 1)) $((2 + RANDOM % 4))
		sleep $((1 + RANDOM % 3))
	done
	touch "$work/stop"
	for p in "${clients[@]}"; do wait "$p" || true; done
	clients=()
	seq=$(awk '/^next/ {print $2}' "$work/writes.$r" | tail -n 1)
	[ -n "$seq" ] || fail "round $r: the writer did not finish"

	log "round $r: heal and check"
	heal
	for i in $(seq 1 "$n"); do
		until_ok 60 sock_up "$i" || fail "round $r: n$i is not up"
	done
	until_ok 120 converged || fail "round $r: no leader with $n voters"
	# A last write, seen everywhere: then every member applied the same.
	final=$seq
	seq=$((seq + 1))
	until_ok 60 ctl 1 config set budget-usd "$final.00" >/dev/null 2>&1 ||
		fail "round $r: the final write was not acknowledged"
	for i in $(seq 1 "$n"); do
		until_ok 60 bash -c "'$NTPCTL' -s '$(sock "$i")' config get \
			budget-usd | grep -q ' $final\.00 '" ||
			fail "round $r: n$i did not apply the final write"
	done
	hash1=
	div=0
	for i in $(seq 1 "$n"); do
		until_ok 30 ctl "$i" backup --force "$work/bk.$r.$i" >/dev/null 2>&1 ||
			fail "round $r: backup on n$i"
		"$CHAOSDUMP" "$work/bk.$r.$i" >"$work/dump.$r.$i" ||
			fail "round $r: n$i's backup does not decode"
		h=$(awk '/^hash/ {print $2}' "$work/dump.$r.$i")
		[ -z "$hash1" ] && hash1=$h
		[ "$h" = "$hash1" ] || { div=$((div + 1)); log "n$i: hash $h, n1: $hash1"; }
	done
	# Every acknowledged write of the round, on every member.
	lost=0
	while read -r _ v _; do
		for i in $(seq 1 "$n"); do
			if ! grep -qxF "audit config set budget-usd=$v.00" \
				"$work/dump.$r.$i"; then
				lost=$((lost + 1))
				log "lost: write $v.00 (acknowledged) is not on n$i"
				break
			fi
		done
	done < <(grep '^ack ' "$work/writes.$r")
	acked=$(grep -c '^ack ' "$work/writes.$r" || true)
	failed=$(grep -c '^fail ' "$work/writes.$r" || true)
	# A read that missed its write: stale when what it returned was
	# applied before the write (the audit trail's order), not when it is a
	# write whose client gave up but that was applied later (its request
	# still in the member's socket when the member came back).
	stale=0
	while read -r _ v i got; do
		pv=$(grep -nxF "audit config set budget-usd=$v.00" 			"$work/dump.$r.1" | cut -d: -f1)
		pg=$(grep -nxF "audit config set budget-usd=$got" 			"$work/dump.$r.1" | cut -d: -f1)
		if [ -n "$pg" ] && [ -n "$pv" ] && [ "$pg" -gt "$pv" ]; then
			log "n$i read $got after write $v.00: applied later," 				"not stale (a write its client gave up on)"
		else
			stale=$((stale + 1))
			log "stale: n$i answered $got right after acknowledging" 				"$v.00"
		fi
	done < <(grep '^stale ' "$work/writes.$r")
	reads=$(($(grep -c '^read ' "$work/writes.$r" || true) + \
		$(grep -c '^ok ' "$work/reads.$r" || true)))
	log "round $r: $acked writes acknowledged, $failed failed, $reads" \
		"reads, $stale stale, $lost lost, $div divergent"
	acked_all=$((acked_all + acked))
	failed_all=$((failed_all + failed))
	reads_all=$((reads_all + reads))
	stale_all=$((stale_all + stale))
	lost_all=$((lost_all + lost))
	div_all=$((div_all + div))
done

echo "chaos: $n members, seed $seed, $rounds round(s) of $secs s:" \
	"$faults_total faults (kill9 ${nfault[kill9]}, stop ${nfault[stop]}," \
	"partition ${nfault[partition]}, disk ${nfault[disk]}), writes" \
	"$acked_all acked $failed_all failed, reads $reads_all, stale" \
	"$stale_all, lost $lost_all, divergent $div_all"
if [ "$lost_all" != 0 ] || [ "$div_all" != 0 ] || [ "$stale_all" != 0 ]; then
	fail "acknowledged writes lost, divergent members or stale reads"
fi
[ "$acked_all" -gt 0 ] || fail "no write was acknowledged at all"
