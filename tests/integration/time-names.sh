#!/usr/bin/env bash
# Names without DNS: a private hosts file resolves an upstream and a pool;
# a name missing from it is retried with back-off and shown as unresolved
# in `ntpctl sources`; a source that answers KoD DENY is shown as kod and
# not used; a RATE kiss slows polling down; the first claim waits (at most
# 8 s) for a majority of the configured sources.
#   time-names.sh NTPNODE NTPCTL NTPSIM NTPPROBE
set -euo pipefail
NTPNODE=${1:?ntpnode} NTPCTL=${2:?ntpctl} NTPSIM=${3:?ntpsim} NTPPROBE=${4:?ntpprobe}
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT
# shellcheck source=tests/integration/lib-time.sh
. "$(dirname "$0")/lib-time.sh"

# Pool members share one port: pick it, retry on a clash.
for try in 1 2 3; do
	pp=$(random_port)
	start_sim --seed 5 -s "@.11,port=$pp,delay=200us" \
		-s "@.12,port=$pp,delay=200us" -s "@.13,port=$pp,delay=200us" \
		-s "@.14,kod=DENY" -s "@.15,kod=RATE" && break
done
cat >"$TMP/hosts" <<HOSTS
# test-only resolver
$NET.11 good.test
$NET.12 pool.test
$NET.13 pool.test
HOSTS
t0=$(date +%s.%N)
start_node n1 "test-mode yes" "hostsfile $TMP/hosts" \
	"upstream good.test port $pp minpoll -1 maxpoll -1 iburst" \
	"pool pool.test port $pp minpoll -1 maxpoll -1 maxsources 2" \
	"upstream missing.test minpoll -1 maxpoll -1" \
	"upstream $NET.14 port $(sim_port "$NET.14") minpoll -1 maxpoll -1" \
	"upstream $NET.15 port $(sim_port "$NET.15") minpoll -1 maxpoll -1"
sleep_until() { sleep "$(awk -v t0="$t0" -v d="$1" -v n="$(date +%s.%N)" 'BEGIN { s = t0 + d - n; print (s > 0 ? s : 0) }')"; }
sleep_until 3
# 3 of the 6 configured sources can answer: no claim before the 8 s
# first-claim deadline (a majority of the configured ones never answers).
ctl -o json tracking >"$TMP/t.json"
[ "$(json_get "$TMP/t.json" "j['synchronized']")" = False ] || tfail "synced early: $(cat "$TMP/t.json")"
json_get "$TMP/t.json" "j['reason']" | grep -q "waiting" || tfail "reason: $(cat "$TMP/t.json")"
sleep 1
ctl -o json sources >"$TMP/s.json" || tfail "ntpctl sources failed"
state() { json_get "$TMP/s.json" "[s['state'] for s in j['sources'] if $1][0]"; }
reason() { json_get "$TMP/s.json" "[s['reason'] for s in j['sources'] if $1][0]"; }
[ "$(state "s['name'] == 'missing.test'")" = unresolved ] || tfail "missing.test: $(cat "$TMP/s.json")"
r=$(reason "s['name'] == 'missing.test'")
case "$r" in
*"not in hostsfile"*tries*) ;;
*) tfail "missing.test reason: $r" ;;
esac
tries=$(echo "$r" | sed -n 's/.*(\([0-9]*\) tries.*/\1/p')
[ "$tries" -ge 2 ] && [ "$tries" -le 4 ] || tfail "expected 2-4 tries in 4 s with back-off, got $tries"
for a in "$NET.11" "$NET.12" "$NET.13"; do
	s=$(state "(s['address'] or '').startswith('$a:')")
	case "$s" in
	selected|combined|candidate) ;;
	*) tfail "$a is $s: $(cat "$TMP/s.json")" ;;
	esac
done
[ "$(state "(s['address'] or '').startswith('$NET.14:')")" = kod ] ||
	tfail "DENY source: $(cat "$TMP/s.json")"
n=$(json_get "$TMP/s.json" "[s['poll'] for s in j['sources'] if (s['address'] or '').startswith('$NET.15:')][0]")
[ "$n" -ge 0 ] || tfail "RATE source still polls at $n"
sleep_until 9
ctl -o json tracking >"$TMP/t.json"
[ "$(json_get "$TMP/t.json" "j['synchronized']")" = True ] || tfail "not synced: $(cat "$TMP/t.json")"
grep -q "missing.test" "$TMP/n1.log" || tfail "no log line for the unresolved name"
echo "PASS"
