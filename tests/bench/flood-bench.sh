#!/usr/bin/env bash
# Cluster port flood benchmark. Not a ctest: it takes a few minutes.
#   tests/bench/flood-bench.sh
# Env: BUILD (default build/release), TRIALS (default 5), PER_PORT (idle
# connections held per cluster port, default 64), RATE (reconnections a
# second, default 200), SOURCE (the flood's one source address, default
# 127.0.0.2), LIMIT (seconds before a trial counts as failed, default 30).
#
# Three voters on loopback; tests/bench/flood.py holds PER_PORT idle
# connections open against every member's cluster port from SOURCE and
# reopens each one the member closes, RATE a second in all. Meanwhile:
#  - restart: kill -9 a follower, start it again, commit a write on the
#    leader at once; the figure is restart -> the restarted member's own
#    `config get` shows the write (it applied it);
#  - join: `ntpnode join` with a fresh token; the figure is exec -> its
#    control socket answers (the JoinReply admitted it).
# Targets: both within 10 s.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build/release}
export NTPNODE=${NTPNODE:-$BUILD/node/ntpnode}
export NTPCTL=${NTPCTL:-$BUILD/tools/ntpctl}
TRIALS=${TRIALS:-5}
PER_PORT=${PER_PORT:-64}
RATE=${RATE:-200}
SOURCE=${SOURCE:-127.0.0.2}
LIMIT=${LIMIT:-30}
# shellcheck source-path=SCRIPTDIR
. "$top/tests/integration/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"
FLOOD_PID=
stop_flood() {
	[ -n "$FLOOD_PID" ] || return 0
	kill -TERM "$FLOOD_PID" 2>/dev/null || true
	wait "$FLOOD_PID" 2>/dev/null || true
	FLOOD_PID=
}
trap 'stop_flood; lc_cleanup' EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

stats() {
	sort -n | awk '{ v[NR] = $1 }
	END { if (!NR) { print "n=0"; exit }
	      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	      printf "n=%d median=%d max=%d (ms)\n", NR, m, v[NR] }'
}

for i in 1 2 3; do lc_conf "$i"; done
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || lc_fail "3 voters"

python3 "$top/tests/bench/flood.py" --source "$SOURCE" \
	--per-port "$PER_PORT" --rate "$RATE" \
	"$(lc_cport 1)" "$(lc_cport 2)" "$(lc_cport 3)" \
	2>"$LC_DIR/flood.out" &
FLOOD_PID=$!
sleep 3
lc_log "flood: $PER_PORT idle connections per port from $SOURCE, $RATE/s"

r=$LC_DIR/restart.ms
j=$LC_DIR/join.ms
: >"$r"
: >"$j"
fails=0
for k in $(seq 1 "$TRIALS"); do
	# Under the flood the old transport could lose its leader for good:
	# a trial without one counts as failed (both figures), and the next
	# one tries again.
	if ! l=$(lc_wait_leader "$LIMIT"); then
		fails=$((fails + 2))
		lc_log "trial $k: no leader agreed on within $LIMIT s"
		continue
	fi
	f=$((l % 3 + 1))
	lc_kill9 "$f"
	t0=$(now_ms)
	lc_start "$f" run
	until lc_ctl "$l" config set token-uses "$((100 + k))" >/dev/null 2>&1; do
		[ $(($(now_ms) - t0)) -gt $((LIMIT * 1000)) ] && break
		sleep 0.05
	done
	ok=0
	while [ $(($(now_ms) - t0)) -le $((LIMIT * 1000)) ]; do
		v=$(lc_ctl "$f" config get token-uses 2>/dev/null | awk '{print $2}') || true
		if [ "$v" = "$((100 + k))" ]; then
			ok=1
			break
		fi
		sleep 0.05
	done
	t1=$(now_ms)
	if [ "$ok" = 1 ]; then
		echo $((t1 - t0)) >>"$r"
		lc_log "restart $k: n$f applied the write $((t1 - t0)) ms after its restart"
	else
		fails=$((fails + 1))
		lc_log "restart $k: n$f had not applied the write after $LIMIT s"
	fi
	lc_wait_voters 3 "$LIMIT" || lc_log "restart $k: not 3 reachable voters after $LIMIT s"

	i=$((10 + k))
	lc_conf "$i"
	# the leader as the two members not restarted see it
	others=$(for x in 1 2 3; do [ "$x" != "$f" ] && echo "$x"; done)
	# shellcheck disable=SC2086
	if ! l=$(lc_wait_leader "$LIMIT" $others) ||
		! t=$(lc_ctl "$l" token create); then
		fails=$((fails + 1))
		lc_log "join $k: no leader to make a token within $LIMIT s"
		continue
	fi
	t0=$(now_ms)
	lc_join_bg "$i" "$t"
	if lc_until "$LIMIT" lc_sock_up "$i"; then
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$j"
		lc_log "join $k: n$i admitted $((t1 - t0)) ms after exec"
	else
		fails=$((fails + 1))
		lc_log "join $k: n$i not admitted after $LIMIT s: $(tail -n 1 "$(lc_memdir "$i")/stderr")"
	fi
	lc_stop "$i"
	if l=$(lc_wait_leader "$LIMIT"); then
		lc_ctl "$l" node remove "n$i" >/dev/null 2>&1 || true
	fi
	rm -rf "$(lc_memdir "$i")"
done
stop_flood
echo "flood: $(cat "$LC_DIR/flood.out")"
echo "restart -> write applied under the flood: $(stats <"$r"), failed $((TRIALS - $(wc -l <"$r"))) of $TRIALS"
echo "join exec -> admitted under the flood: $(stats <"$j"), failed $((TRIALS - $(wc -l <"$j"))) of $TRIALS"
for n in 1 2 3; do
	lc_log "n$n refusals: $(grep -c 'refused\|handshake' "$(lc_memdir "$n")/stderr" || true) log lines"
done
[ "$fails" = 0 ]
