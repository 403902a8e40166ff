#!/usr/bin/env bash
# The cross-check with real time sources: every member syncs from its own
# three simulated upstreams (ntpsim, truth = the system clock); n3's three
# agree on a time 30 ms ahead, so n3's engine is synchronized, with a good
# root distance, and wrong. n3 must reply LI 3 within 3 checks of the
# cluster being able to decide, n1 and n2 never. Then n3's upstreams step
# back to the truth (ntpsim step at RECOVER_AT s): n3 must claim sync again
# within 4 checks of its clock being right, and the audit trail records
# both changes.
set -euo pipefail
here=$(dirname "$0")
NTPSIM=${NTPSIM:?NTPSIM must name the ntpsim binary}
NTPPROBE=${NTPPROBE:?NTPPROBE must name the ntpprobe binary}
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"
RECOVER_AT=${RECOVER_AT:-30}
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	lc_cleanup
}
trap cleanup EXIT

li_of() {
	"$NTPPROBE" -a 127.0.0.1 -p "$(lc_nport "$1")" --count 1 --interval 0.01 \
		--timeout 0.5 2>/dev/null | awk '{ if ($2 == "lost") print "lost";
		else if ($2 == "kod") print ($3 == "????" ? 3 : "kod " $3);
		else print $3 }'
}
tracking() { lc_ctl "$1" -o json tracking; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Nine servers on a random 127.x.y network: .11-.13 for n1, .21-.23 for
# n2, .31-.33 for n3 (30 ms ahead until RECOVER_AT).
for _ in 1 2 3 4 5; do
	net="127.$((RANDOM % 240 + 5)).$((RANDOM % 250 + 2))"
	specs=()
	for m in 1 2; do
		for k in 1 2 3; do specs+=(-s "$net.$m$k"); done
	done
	for k in 1 2 3; do
		specs+=(-s "$net.3$k,offset=30ms,step=$RECOVER_AT:-30ms")
	done
	"$NTPSIM" --seed 7 "${specs[@]}" >"$LC_DIR/sim.out" 2>"$LC_DIR/sim.err" &
	sim_pid=$!
	for _ in $(seq 50); do
		grep -q '^ready' "$LC_DIR/sim.out" && break 2
		kill -0 "$sim_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$sim_pid" 2>/dev/null || true
	wait "$sim_pid" 2>/dev/null || true
	sim_pid=
done
[ -n "$sim_pid" ] || lc_fail "ntpsim did not start"
sim_start=$(now_ms)
ups() {
	local m=$1 k p
	for k in 1 2 3; do
		p=$(awk -v a="$net.$m$k" '$1 == "server" && $2 == a { print $3 }' \
			"$LC_DIR/sim.out")
		echo "upstream $net.$m$k port $p minpoll -2 maxpoll -2 iburst"
	done
}
rl="ratelimit interval -6 burst 255"
for m in 1 2 3; do
	mapfile -t u < <(ups "$m")
	lc_conf "$m" "${u[@]}" "makestep 0.001 -1" "crosscheck-interval 1" "$rl"
done

lc_log "n1 creates the cluster, n2 and n3 join; each syncs from its own"
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || lc_fail "3 voters"
ahead() {
	tracking 3 | jq -e '.synchronized and .correction > 0.029 and
		.correction < 0.031' >/dev/null
}
lc_until 20 ahead || lc_fail "n3 did not follow its upstreams: $(lc_ctl 3 tracking)"

lc_log "n3 (30 ms ahead, synchronized) must reply LI 3"
got=
while [ $(($(now_ms) - sim_start)) -lt $((RECOVER_AT * 1000 - 3000)) ]; do
	for i in 1 2; do
		l=$(li_of "$i")
		[ "$l" = 0 ] || lc_fail "n$i replied LI $l"
	done
	if [ "$(li_of 3)" = 3 ]; then
		got=1
		break
	fi
	sleep 0.1
done
[ -n "$got" ] || lc_fail "n3 never replied LI 3: $(lc_ctl 3 tracking)"
j=$(tracking 3)
first=$(jq .crosscheck.first_decided_check <<<"$j")
at=$(jq .crosscheck.suspect_at_check <<<"$j")
lc_log "n3 suspect at check $at; first check with a majority: $first" \
	"($((at - first + 1)) checks)"
if [ "$first" -le 0 ] || [ $((at - first + 1)) -gt 3 ]; then
	lc_fail "detection took $((at - first + 1)) checks"
fi
for i in 1 2 3; do
	lc_until 10 bash -c "'$NTPCTL' -s '$(lc_sock "$i")' -o json cluster status |
		jq -e '.members[] | select(.name == \"n3\") |
		.crosscheck.verdict == \"suspect\" and
		.crosscheck.offset_ms > 28 and .crosscheck.offset_ms < 32' \
		>/dev/null" || lc_fail "n$i's status: $(lc_ctl "$i" cluster status)"
done

lc_log "until the upstreams step back (at $RECOVER_AT s): n3 stays LI 3"
fixed=
while :; do
	c=$(tracking 3 | jq .correction)
	if awk -v c="$c" 'BEGIN { exit !(c < 0.001 && c > -0.001) }'; then
		fixed=$(now_ms)
		break
	fi
	[ $(($(now_ms) - sim_start)) -lt $((RECOVER_AT * 1000 + 15000)) ] ||
		lc_fail "n3's clock was never put right: $(lc_ctl 3 tracking)"
	for i in 1 2; do
		[ "$(li_of "$i")" = 0 ] || lc_fail "n$i left LI 0"
	done
	[ "$(li_of 3)" = 3 ] || lc_fail "n3 claimed sync with its clock 30 ms off"
	sleep 0.05
done
lc_log "n3's clock is right again ($((fixed - sim_start)) ms after the" \
	"simulator started)"
back=
while [ $(($(now_ms) - fixed)) -lt 10000 ]; do
	if [ "$(li_of 3)" = 0 ]; then
		back=$(now_ms)
		break
	fi
	sleep 0.05
done
[ -n "$back" ] || lc_fail "n3 never claimed sync again: $(lc_ctl 3 tracking)"
j=$(tracking 3)
cleared=$(jq .crosscheck.cleared_at_check <<<"$j")
lc_log "n3 claims sync again $((back - fixed)) ms after its clock was" \
	"right (check $cleared; interval 1 s)"
[ $((back - fixed)) -le 4500 ] ||
	lc_fail "recovery took $((back - fixed)) ms, more than 4 checks"
jq -e '.crosscheck.verdict == "ok" and .crosscheck.transitions == 2' \
	<<<"$j" >/dev/null || lc_fail "n3: $j"
for i in 1 2; do
	jq -e '.crosscheck.transitions == 0' <<<"$(tracking "$i")" \
		>/dev/null || lc_fail "n$i changed its verdict"
done
lc_until 10 bash -c "'$NTPCTL' -s '$(lc_sock 1)' audit |
	grep -q '(n3) cross-check cleared: '" || lc_fail "audit: $(lc_ctl 1 audit)"
lc_ctl 1 audit | grep -q "(n3) cross-check suspect: +30.0" ||
	lc_fail "audit: $(lc_ctl 1 audit)"
lc_log "PASS"
