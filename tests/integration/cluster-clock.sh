#!/usr/bin/env bash
# One clock for the cluster: the time that stamps commands and judges join
# tokens is the served time, not the kernel clock. n1's raw clock is 120 s
# slow (test-only clock-error) and it syncs from correct simulated
# upstreams (ntpsim, truth = the system clock): a token it creates with a
# 60 s lifetime expires 60 s from now in true time (the raw clock would
# say it expired a minute ago). Leadership then moves to n2 (a correct
# clock) and a join 30 s later succeeds; the joiner n3, whose raw clock is
# 120 s fast and which has no time source yet, only warns that by its own
# clock the token has expired.
set -euo pipefail
here=$(dirname "$0")
NTPSIM=${NTPSIM:?NTPSIM must name the ntpsim binary}
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	lc_cleanup
}
trap cleanup EXIT

# Three truthful servers on a random 127.x.y network.
for _ in 1 2 3 4 5; do
	net="127.$((RANDOM % 240 + 5)).$((RANDOM % 250 + 2))"
	"$NTPSIM" --seed 1 -s "$net.11" -s "$net.12" -s "$net.13" \
		>"$LC_DIR/sim.out" 2>"$LC_DIR/sim.err" &
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
ups=()
for a in 11 12 13; do
	p=$(awk -v a="$net.$a" '$1 == "server" && $2 == a { print $3 }' \
		"$LC_DIR/sim.out")
	ups+=("upstream $net.$a port $p minpoll -2 maxpoll -2 iburst")
done

lc_conf 1 "test-mode yes" "clock-error offset -120 drift 0" "${ups[@]}"
lc_conf 2
LC_NO_LOCAL=1 lc_conf 3 "test-mode yes" "clock-error offset 120 drift 0"

lc_log "n1 (raw clock 120 s slow) creates the cluster, n2 joins"
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_wait_voters 2 30 || lc_fail "2 voters"

synced() {
	lc_ctl 1 -o json tracking | jq -e '.synchronized and
		(.correction > 119.9) and (.correction < 120.1)' >/dev/null
}
lc_until 30 synced || lc_fail "n1 did not sync to the upstreams: $(lc_ctl 1 tracking)"

lc_log "n1 creates a token with a 60 s lifetime"
l=$(lc_wait_leader 10) || lc_fail "no leader"
[ "$l" = 1 ] || lc_ctl "$l" leader transfer n1 >/dev/null ||
	lc_fail "leadership to n1"
json=$(lc_ctl 1 -o json token create --ttl 60s) || lc_fail "token create"
tok=$(jq -r .token <<<"$json")
exp=$(jq -r .expires_at <<<"$json")
now=$(date +%s)
# served time: now + 60; the raw clock would give now - 60
[ $((exp - now)) -ge 55 ] && [ $((exp - now)) -le 65 ] ||
	lc_fail "the token expires $((exp - now)) s from now, not 60"

lc_log "leadership to n2 (a correct clock); a join 30 s later"
lc_ctl 1 leader transfer n2 >/dev/null || lc_fail "leader transfer"
l=$(lc_wait_leader 10) || lc_fail "no leader after the transfer"
[ "$l" = 2 ] || lc_fail "n$l leads, not n2"
sleep 30
lc_join 3 "$tok"
grep -q "by this node's clock, which is not synchronized yet, the token has expired; trying anyway" \
	"$(lc_memdir 3)/stderr" || lc_fail "n3 did not warn about the expiry it cannot judge"
in_status() {
	lc_status_json 2 | jq -e '.members[] | select(.name == "n3")' >/dev/null
}
lc_until 10 in_status || lc_fail "n3 is not a member"
lc_log "PASS"
