#!/usr/bin/env bash
# Graceful handoff on loopback: 3 voters and a 4th member
# (standby). Drain the leader through a follower -> leadership moves, the
# standby is promoted, the drained member ends spare and stays there;
# errors (unknown node, already drained, a drain that would lose quorum);
# undrain -> eligible again; SIGHUP is not fatal; then a rolling restart of
# the 3 voters with SIGTERM: after each leader's exit a leader is known
# again within one election timeout, and every member ends with the same
# FSM state hash.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
json_of() { lc_status_json "$1"; }
# role_of I NAME: NAME's role as member I's leader view says
role_of() {
	json_of "$1" | jq -r --arg n "$2" '.members[]|select(.name==$n)|.role'
}
drained_of() {
	json_of "$1" | jq -r --arg n "$2" '.members[]|select(.name==$n)|.drained'
}
role_is() { [ "$(role_of "$1" "$2")" = "$3" ]; }
unreachable() {
	json_of "$1" | jq -e --arg n "$2" \
		'.members[]|select(.name==$n)|.reachable==false' >/dev/null
}
# caught_up I: member I's status (answered by the leader) lists it as a
# voter with no lag
caught_up() {
	json_of "$1" | jq -e --arg n "n$1" '.view=="leader" and
		(.members[]|select(.name==$n)|.role=="voter" and .log_lag==0)' \
		>/dev/null
}

for i in 1 2 3 4; do lc_conf "$i"; done
lc_log "3 voters and a standby"
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || lc_fail "3 voters"
lc_join 4 "$(lc_ctl 1 token create)"
lc_until 20 role_is 1 n4 standby || lc_fail "n4 did not become standby"
et=$(lc_ctl 1 config get election-timeout | awk '{ print $2 }')
lc_log "election timeout $et ms"

l=$(lc_wait_leader 10) || lc_fail "no leader"
f=$((l % 3 + 1))

lc_log "errors: usage, unknown node"
if lc_ctl "$f" node drain 2>"$LC_DIR/err"; then lc_fail "drain without NODE"; fi
grep -q "usage: ntpctl node drain NODE" "$LC_DIR/err" || lc_fail "no usage"
if lc_ctl "$f" node drain nope 2>"$LC_DIR/err"; then
	lc_fail "unknown node accepted"
fi
grep -q "no such member: nope" "$LC_DIR/err" || lc_fail "no reason: $(cat "$LC_DIR/err")"

lc_log "drain the leader n$l through follower n$f"
lc_ctl "$f" node drain "n$l" | tee "$LC_DIR/drain.out" >&2 ||
	lc_fail "drain failed"
grep -q "^drained n$l ([0-9]*): leadership moved to n[1-4] .*which demotes" \
	"$LC_DIR/drain.out" || lc_fail "drain reply: $(cat "$LC_DIR/drain.out")"
# (a spare hears no raft traffic: ask the others)
mapfile -t rest < <(printf '%s\n' 1 2 3 4 | grep -vx "$l")
nl=$(lc_wait_leader 10 "${rest[@]}") || lc_fail "no leader after drain"
[ "$nl" != "$l" ] || lc_fail "n$l still leads"
lc_until 5 role_is "$f" "n$l" spare || lc_fail "n$l is not spare"
[ "$(drained_of "$f" "n$l")" = true ] || lc_fail "n$l not shown drained"
# its own view may be old: it says why (once it no longer knows a leader)
self_says_drained() {
	local out
	out=$(lc_ctl "$1" cluster status) || return 1
	[[ ${out%%$'\n'*} == *"(local view: this member is drained"* ]]
}
lc_until 5 self_says_drained "$l" || lc_fail "n$l's own status: $(lc_ctl "$l" cluster status | head -n 1)"
[ "$(role_of "$f" n4)" = voter ] || lc_fail "the standby was not promoted"
lc_ctl "$f" cluster status | grep -q "^drained (never promoted.*n$l (" ||
	lc_fail "status text does not list the drained member"

lc_log "drained again: says so, exit 0; the policy does not re-promote"
lc_ctl "$nl" node drain "n$l" | grep -q "is already drained (spare now)" ||
	lc_fail "second drain"
sleep 2
[ "$(role_of "$nl" "n$l")" = spare ] || lc_fail "n$l promoted again"
lc_ctl "$nl" node undrain n4 | grep -q "n4 (.*) is not drained" ||
	lc_fail "undrain of a member that is not drained"

lc_log "undrain n$l -> eligible again (standby: 3 voters are enough)"
lc_ctl "$f" node undrain "n$l" | grep -q "^undrained n$l " ||
	lc_fail "undrain"
lc_until 10 role_is "$nl" "n$l" standby ||
	lc_fail "n$l not standby after undrain"
[ "$(drained_of "$nl" "n$l")" = false ] || lc_fail "still shown drained"

lc_log "a drain that would lose quorum is refused"
# n$l (standby) drained: no replacement left; one voter down; draining
# another leaves one reachable voter of two.
lc_ctl "$f" node drain "n$l" | tee "$LC_DIR/drain2.out" >&2 ||
	lc_fail "drain of a standby"
grep -q "^drained n$l ([0-9]*): spare now; leader is n$nl " \
	"$LC_DIR/drain2.out" || lc_fail "drain reply: $(cat "$LC_DIR/drain2.out")"
lc_until 10 role_is "$nl" "n$l" spare || lc_fail "drained standby not spare"
mapfile -t others < <(json_of "$nl" | jq -r --arg n "n$nl" \
	'.members[]|select(.role=="voter" and .name!=$n)|.name|ltrimstr("n")')
[ "${#others[@]}" = 2 ] || lc_fail "expected 2 other voters: ${others[*]}"
down=${others[0]}
up=${others[1]}
lc_stop "$down"
lc_until 10 unreachable "$nl" "n$down" || lc_fail "n$down still reachable"
if lc_ctl "$up" node drain "n$up" 2>"$LC_DIR/err"; then
	lc_fail "a drain that loses quorum was accepted"
fi
grep -q "quorum" "$LC_DIR/err" || lc_fail "no reason: $(cat "$LC_DIR/err")"
[ "$(drained_of "$nl" "n$up")" = false ] || lc_fail "refused drain recorded"
lc_run "$down"
lc_ctl "$nl" node undrain "n$l" >/dev/null || lc_fail "undrain n$l"
lc_wait_voters 3 30 || lc_fail "3 voters again"

lc_log "SIGHUP is logged, not fatal"
kill -HUP "${LC_PID[$nl]}"
lc_until 5 grep -q "SIGHUP: configuration reload is not supported" \
	"$LC_DIR/n$nl/stderr" || lc_fail "no SIGHUP message"
lc_alive "$nl" || lc_fail "SIGHUP killed the daemon"

lc_log "rolling restart of the voters with SIGTERM"
mapfile -t vs < <(json_of "$nl" | jq -r \
	'.members[]|select(.role=="voter")|.name|ltrimstr("n")')
[ "${#vs[@]}" = 3 ] || lc_fail "voters: ${vs[*]}"
for i in "${vs[@]}"; do
	l=$(lc_wait_leader 10) || lc_fail "no leader before restarting n$i"
	rest=()
	for j in 1 2 3 4; do
		[ "$j" != "$i" ] && lc_alive "$j" && rest+=("$j")
	done
	lc_stop "$i"
	t0=$(now_ms)
	if [ "$l" = "$i" ]; then
		# timed on one member (each probe costs an ntpctl round trip),
		# then every member must agree
		lc_wait_leader 5 "${rest[0]}" >/dev/null ||
			lc_fail "no leader after n$i"
		dt=$(($(now_ms) - t0))
		nl=$(lc_wait_leader 5 "${rest[@]}") || lc_fail "no agreed leader"
		lc_log "leader n$i exited: leader n$nl known ${dt} ms later"
		[ "$nl" != "$i" ] || lc_fail "n$i still leads"
		[ "$dt" -le "$et" ] ||
			lc_fail "no leader for $dt ms > election timeout $et ms"
		grep -q "handoff: leader is now" "$LC_DIR/n$i/stderr" ||
			lc_fail "n$i did not hand over"
	fi
	lc_run "$i"
	lc_until 30 caught_up "$i" ||
		lc_fail "n$i not a caught-up voter after restart"
done

lc_log "every member has the same FSM state hash"
hashes=()
for i in 1 2 3 4; do
	h=$(lc_ctl "$i" -o json backup --force "$LC_DIR/b$i" | jq -r .state_hash) ||
		lc_fail "backup on n$i"
	hashes+=("$h")
done
lc_log "hashes: ${hashes[*]}"
[ "$(printf '%s\n' "${hashes[@]}" | sort -u | wc -l)" = 1 ] ||
	lc_fail "FSM hashes differ: ${hashes[*]}"
lc_log "PASS"
