#!/usr/bin/env bash
# Time engine end to end: 3 truechimers and 1 falseticker (+180 ms) on
# ntpsim, the system clock 50 ms off the simulated truth, iburst and 1 s
# polling. ntpnode (discipline virtual, no CAP_SYS_TIME) must serve time
# within 1 ms of the truth within 5 s of start, claim sync at stratum 2,
# never select or combine the falseticker (not even for the first update),
# and keep its frequency estimate in the datadir across a restart.
#   time-sync.sh NTPNODE NTPCTL NTPSIM NTPPROBE
set -euo pipefail
NTPNODE=${1:?ntpnode} NTPCTL=${2:?ntpctl} NTPSIM=${3:?ntpsim} NTPPROBE=${4:?ntpprobe}
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT
# shellcheck source=tests/integration/lib-time.sh
. "$(dirname "$0")/lib-time.sh"

start_sim --seed 3 --truth-offset 0.05 \
	-s @.11,delay=500us -s @.12,delay=500us -s @.13,delay=500us \
	-s @.14,offset=180ms,delay=500us
conf=()
for i in 11 12 13 14; do
	conf+=("upstream $NET.$i port $(sim_port "$NET.$i") minpoll 0 maxpoll 0 iburst")
done
t0=$(date +%s.%N)
start_node n1 "${conf[@]}"

# Within 5 s of start: three answers in a row within 1 ms and synced.
sleep_until() { sleep "$(awk -v t0="$t0" -v d="$1" -v n="$(date +%s.%N)" 'BEGIN { s = t0 + d - n; print (s > 0 ? s : 0) }')"; }
sleep_until 4.2
"$NTPPROBE" -a "$NET.3" -p "$NODE_PORT" --status "$TMP/sim.status" \
	--count 3 --interval 0.2 >"$TMP/probe.out" 2>"$TMP/probe.sum" ||
	tfail "ntpprobe failed: $(cat "$TMP/probe.sum")"
elapsed=$(awk -v t0="$t0" -v n="$(date +%s.%N)" 'BEGIN { print n - t0 }')
awk '$2 != "lost" && $3 != 3 && $4 == 2 { if ($2 < 0) $2 = -$2; if ($2 <= 0.001) ok++ }
     END { exit !(ok == 3) }' "$TMP/probe.out" ||
	tfail "not within 1 ms and synced at stratum 2 by ${elapsed}s: $(cat "$TMP/probe.out")"

# The falseticker: never selected or combined, marked as a falseticker.
false_addr=$NET.14
for _ in $(seq 5); do
	ctl -o json sources >"$TMP/sources.json" || tfail "ntpctl sources failed"
	st=$(json_get "$TMP/sources.json" \
		"[s['state'] for s in j['sources'] if (s['address'] or '').startswith('$false_addr:')][0]")
	[ "$st" = falseticker ] || tfail "falseticker shown as '$st'"
	n=$(json_get "$TMP/sources.json" \
		"len([s for s in j['sources'] if s['state'] in ('selected', 'combined')])")
	[ "$n" = 3 ] || tfail "expected 3 sources in use, got $n: $(cat "$TMP/sources.json")"
	sleep 0.3
done
if grep -E "(synchronized to|system peer) $false_addr:" "$TMP/n1.log"; then
	tfail "the falseticker was followed"
fi
ctl sources >"$TMP/sources.txt"
grep -q "^NAME" "$TMP/sources.txt" || tfail "no sources table"
ctl -o json tracking >"$TMP/tracking.json" || tfail "ntpctl tracking failed"
[ "$(json_get "$TMP/tracking.json" "j['synchronized']")" = True ] ||
	tfail "tracking: $(cat "$TMP/tracking.json")"
[ "$(json_get "$TMP/tracking.json" "j['stratum']")" = 2 ] ||
	tfail "tracking stratum: $(cat "$TMP/tracking.json")"
# 50 ms of system-clock error against the truth is in the correction.
json_get "$TMP/tracking.json" "abs(j['correction'] - 0.05) < 0.002" | grep -q True ||
	tfail "tracking correction: $(cat "$TMP/tracking.json")"
ctl tracking | grep -q "^Sync state *: synchronized" || tfail "tracking text"

# The frequency estimate survives a restart (LMDB node-local table).
lib_stop "$NODE_PID"
grep -q "restored frequency" "$TMP/n1.log" && tfail "restored before any save"
start_node n1 "${conf[@]}"
for _ in $(seq 50); do
	grep -q "restored frequency" "$TMP/n1.log" && break
	sleep 0.1
done
grep -q "restored frequency" "$TMP/n1.log" || tfail "frequency not restored"
echo "PASS: synced within 1 ms by ${elapsed}s, falseticker rejected"
