#!/usr/bin/env bash
# A leap second end to end: ntpsim's truth starts 6 s before a midnight
# that the node's leap file (written here) ends with an inserted leap;
# three simulated servers announce it (li=1) and step back 1 s at that
# midnight. ntpnode (discipline virtual, no CAP_SYS_TIME) must serve LI 1
# before it, then step its served time back by 1 s once (served - truth
# goes from 0 to -1 s: truth has no leap), serve LI 0, stay there (no slew
# back), and show it in the log and `ntpctl tracking`.
#   time-leap.sh NTPNODE NTPCTL NTPSIM NTPPROBE
set -euo pipefail
NTPNODE=${1:?ntpnode} NTPCTL=${2:?ntpctl} NTPSIM=${3:?ntpsim} NTPPROBE=${4:?ntpprobe}
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT
# shellcheck source=tests/integration/lib-time.sh
. "$(dirname "$0")/lib-time.sh"

M=1798761600           # 2027-01-01T00:00:00Z
LEAD=6
NTP_UNIX=2208988800
printf '#@ %d\n2272060800 10\n%d 11\n' $((M + NTP_UNIX + 365 * 86400)) \
	$((M + NTP_UNIX)) >"$TMP/leap.list"

t0=$(date +%s.%N)
start_sim --seed 5 --truth-offset "$(awk -v m=$M -v l=$LEAD -v n="$t0" 'BEGIN { printf "%.6f", m - l - n }')" \
	-s "@.11,delay=500us,li=1,step=$LEAD:-1" -s "@.12,delay=500us,li=1,step=$LEAD:-1" \
	-s "@.13,delay=500us,li=1,step=$LEAD:-1"
conf=("leapfile $TMP/leap.list")
for i in 11 12 13; do
	conf+=("upstream $NET.$i port $(sim_port "$NET.$i") minpoll 0 maxpoll 0 iburst")
done
start_node n1 "${conf[@]}"
sleep_until() { sleep "$(awk -v t0="$t0" -v d="$1" -v n="$(date +%s.%N)" 'BEGIN { s = t0 + d - n; print (s > 0 ? s : 0) }')"; }
probe() {
	"$NTPPROBE" -a "$NET.3" -p "$NODE_PORT" --status "$TMP/sim.status" \
		--count 3 --interval 0.2 >"$TMP/probe.out" 2>"$TMP/probe.sum" ||
		tfail "ntpprobe failed: $(cat "$TMP/probe.sum")"
}

# Before midnight: synced, within 1 ms of the truth, LI 1, insert pending.
sleep_until 3.2
probe
awk '$2 != "lost" && $3 == 1 && $4 == 2 { if ($2 < 0) $2 = -$2; if ($2 <= 0.001) ok++ }
     END { exit !(ok == 3) }' "$TMP/probe.out" ||
	tfail "before the leap, not LI 1 within 1 ms: $(cat "$TMP/probe.out")"
ctl -o json tracking >"$TMP/t1.json" || tfail "ntpctl tracking failed"
[ "$(json_get "$TMP/t1.json" "(j['leap'], j['leap_pending'], j['leap_pending_day'], j['leap_inserted'])")" = \
	"(1, 1, '2026-12-31', 0)" ] || tfail "tracking before: $(cat "$TMP/t1.json")"

# After midnight and the 2 s sample guard, with samples again: served time
# 1 s behind the (leap-free) truth, LI 0, still synchronized.
sleep_until $((LEAD + 4))
probe
awk '$2 != "lost" && $3 == 0 && $4 == 2 { e = $2 + 1; if (e < 0) e = -e; if (e <= 0.001) ok++ }
     END { exit !(ok == 3) }' "$TMP/probe.out" ||
	tfail "after the leap, served - truth is not -1 s with LI 0: $(cat "$TMP/probe.out")"
ctl -o json tracking >"$TMP/t2.json" || tfail "ntpctl tracking failed"
[ "$(json_get "$TMP/t2.json" "(j['synchronized'], j['leap'], j['leap_inserted'], j['leap_last_day'], j['leap_pending'])")" = \
	"(True, 0, 1, '2026-12-31', 0)" ] || tfail "tracking after: $(cat "$TMP/t2.json")"
json_get "$TMP/t2.json" "abs(j['remaining']) < 0.001" | grep -q True ||
	tfail "the leap is being slewed back: $(cat "$TMP/t2.json")"
[ "$(grep -c "leap second inserted at the end of 2026-12-31" "$TMP/n1.log")" = 1 ] ||
	tfail "no (or more than one) leap log line"
ctl tracking | grep -q "^Leap seconds *: 1 inserted, 0 deleted, last at the end of 2026-12-31" ||
	tfail "tracking text: $(ctl tracking)"
ctl -o json sources >"$TMP/sources.json" || tfail "ntpctl sources failed"
json_get "$TMP/sources.json" "all(s['dropped'] > 0 for s in j['sources'])" | grep -q True ||
	tfail "no reply dropped next to the leap: $(cat "$TMP/sources.json")"
echo "PASS: $(grep -o "leap second inserted.*" "$TMP/n1.log")"
