#!/usr/bin/env bash
# The cross-check on loopback: three members at `local stratum 10`,
# `crosscheck-interval 1`; n1 (the first leader) has a test-only clock
# error of +20 ms. n1 must reply LI 3 within 3 checks of the cluster being
# able to decide, n2 and n3 never; every member's cluster status shows n1
# suspect (about +20 ms from the others), the audit trail records it,
# leadership leaves n1, n1 is not counted as serving, tracking says why.
# Bad input: crosscheck-interval out of range refused by ntpnode check and
# by config set, with the range.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
NTPPROBE=${NTPPROBE:?NTPPROBE must name the ntpprobe binary}
lc_setup "${LC_WORKDIR:-}"

# LI of one reply from member I ("lost" when none). ntpprobe calls LI 3
# with stratum 0 a kiss-o'-death; refid 0 ("????") makes it the reply of
# an unsynchronized server.
li_of() {
	"$NTPPROBE" -a 127.0.0.1 -p "$(lc_nport "$1")" --count 1 --interval 0.01 \
		--timeout 0.5 2>/dev/null | awk '{ if ($2 == "lost") print "lost";
		else if ($2 == "kod") print ($3 == "????" ? 3 : "kod " $3);
		else print $3 }'
}
tracking() { lc_ctl "$1" -o json tracking; }

lc_log "bad input: crosscheck-interval out of range"
for v in 0 1025 x; do
	printf 'crosscheck-interval %s\n' "$v" >"$LC_DIR/bad.conf"
	if out=$("$NTPNODE" check -c "$LC_DIR/bad.conf" 2>&1); then
		lc_fail "ntpnode check took crosscheck-interval $v"
	fi
	case $v in
	x) grep -q "crosscheck-interval (seconds) must be a whole number" \
		<<<"$out" || lc_fail "no clear message for '$v': $out" ;;
	*) grep -q "crosscheck-interval (seconds) must be between 1 and 1024" \
		<<<"$out" || lc_fail "no range in the message for $v: $out" ;;
	esac
done
printf 'crosscheck-port 5000\n' >"$LC_DIR/bad.conf"
out=$("$NTPNODE" check -c "$LC_DIR/bad.conf" 2>&1) &&
	lc_fail "crosscheck-port without test-mode"
grep -q "test-only" <<<"$out" || lc_fail "crosscheck-port: $out"

# The probes below come from 127.0.0.1 as fast as they can: a rate limit
# they do not trip (the members' own requests bypass it: test_serve).
rl="ratelimit interval -6 burst 255"
lc_conf 1 "crosscheck-interval 1" "$rl" "test-mode yes" \
	"clock-error offset 0.02 drift 0"
lc_conf 2 "crosscheck-interval 1" "$rl"
lc_conf 3 "crosscheck-interval 1" "$rl"

lc_log "n1 (clock +20 ms) creates the cluster, n2 and n3 join"
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || lc_fail "3 voters"

# Until n1 is a suspect: every 100 ms, n1, n2 and n3 answer; n2 and n3
# must always say LI 0.
lc_log "waiting for n1 to reply LI 3"
t0=$(date +%s%N)
got=
for _ in $(seq 1 150); do
	for i in 2 3; do
		l=$(li_of "$i")
		[ "$l" = 0 ] || lc_fail "n$i replied LI $l"
	done
	if [ "$(li_of 1)" = 3 ]; then
		got=$(date +%s%N)
		break
	fi
	sleep 0.1
done
[ -n "$got" ] || lc_fail "n1 never replied LI 3: $(lc_ctl 1 tracking)"
j=$(tracking 1)
first=$(jq .crosscheck.first_decided_check <<<"$j")
at=$(jq .crosscheck.suspect_at_check <<<"$j")
checks=$((at - first + 1))
lc_log "n1 replies LI 3: at check $at, the first check with a majority" \
	"was $first: $checks checks; $(((got - t0) / 1000000)) ms after" \
	"the third voter"
if [ "$first" -le 0 ] || [ "$checks" -gt 3 ]; then
	lc_fail "detection took $checks checks"
fi
jq -e '.crosscheck.verdict == "suspect" and .withdrawn == true' \
	<<<"$j" >/dev/null || lc_fail "n1 tracking: $j"
lc_ctl 1 tracking | grep -q "^Cross-check     : suspect (+20.0" ||
	lc_fail "n1 tracking line: $(lc_ctl 1 tracking)"

lc_log "every member's status shows n1 suspect, n2 and n3 ok"
shows() {
	local j
	j=$(lc_status_json "$1") || return 1
	jq -e '.serving == 2 and .min_serving == 2 and
		(.members[] | select(.name == "n1") | .crosscheck.verdict ==
		 "suspect" and .crosscheck.peers == 2 and
		 (.crosscheck.offset_ms > 19 and .crosscheck.offset_ms < 21)
		 and .serving == false) and
		all(.members[] | select(.name != "n1");
		    .crosscheck.verdict == "ok" and .serving)' \
		<<<"$j" >/dev/null
}
for i in 1 2 3; do
	lc_until 10 shows "$i" ||
		lc_fail "n$i's status: $(lc_status_json "$i")"
done
lc_ctl 2 cluster status | grep -E "^[0-9]+ +n1 .* suspect \+20\.0" \
	>/dev/null || lc_fail "CHECK column: $(lc_ctl 2 cluster status)"

lc_log "the audit trail records it; leadership left n1"
lc_until 10 bash -c "'$NTPCTL' -s '$(lc_sock 3)' audit | grep -q \
	'(n1) cross-check suspect: +20.0[0-9]* ms from the median of n[23], n[23]'" ||
	lc_fail "audit: $(lc_ctl 3 audit)"
l=$(lc_wait_leader 10) || lc_fail "no leader"
[ "$l" != 1 ] || lc_fail "the suspect n1 still leads"

lc_log "for 5 more checks: n2 and n3 LI 0, n1 LI 3"
end=$(($(date +%s) + 5))
while [ "$(date +%s)" -lt "$end" ]; do
	for i in 2 3; do
		[ "$(li_of "$i")" = 0 ] || lc_fail "n$i left LI 0"
	done
	[ "$(li_of 1)" = 3 ] || lc_fail "n1 claimed sync again"
	sleep 0.2
done
for i in 2 3; do
	jq -e '.crosscheck.transitions == 0 and .crosscheck.verdict == "ok"' \
		<<<"$(tracking "$i")" >/dev/null ||
		lc_fail "n$i: $(tracking "$i")"
done

lc_log "n1 restarts: the replicated record makes it a suspect at once"
lc_stop 1
lc_run 1
t0=$(date +%s%N)
lc_until 10 bash -c "[ \"\$(\"$NTPPROBE\" -a 127.0.0.1 -p $(lc_nport 1) \
	--count 1 --interval 0.01 --timeout 0.5 2>/dev/null |
	awk '{ print \$2 \" \" \$3 }')\" = 'kod ????' ]" ||
	lc_fail "restarted n1 not LI 3: $(lc_ctl 1 tracking)"
lc_log "restarted n1 replies LI 3 after $((($(date +%s%N) - t0) / 1000000)) ms"
grep -q "the cluster's record says this member is a suspect" \
	"$(lc_memdir 1)/stderr" || lc_fail "n1 did not start from its record"

lc_log "config set: the range refused, a good value everywhere"
if out=$(lc_ctl 2 config set crosscheck-interval 0 2>&1); then
	lc_fail "config set took 0"
fi
grep -q "crosscheck-interval: '0' is not an integer in 1..1024" <<<"$out" ||
	lc_fail "config set message: $out"
lc_ctl 2 config set crosscheck-interval 2 >/dev/null || lc_fail "config set 2"
for i in 1 2 3; do
	lc_until 10 bash -c "'$NTPCTL' -s '$(lc_sock "$i")' -o json tracking |
		jq -e '.crosscheck.interval_s == 2' >/dev/null" ||
		lc_fail "n$i did not take the interval"
done
lc_log "PASS"
