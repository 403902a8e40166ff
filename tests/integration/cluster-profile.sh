#!/usr/bin/env bash
# The cluster profile on three members on loopback: refused input changes
# nothing; lan -> wan -> lan at runtime with the raft term and the leader
# unchanged throughout; going to wan every member puts its longer election
# timeout in force before the leader slows its heartbeat, going to lan the
# leader's heartbeat is fast before any follower shortens its timeout
# (the members' logs, in ms); the profile is the source of what it sets
# (the cross-check's interval too),
# an explicit key beats it, contradictory timeouts are refused against
# it; writes through a follower stay quick under wan; after a follower's
# restart the leader's heartbeat is back at wan's; `ntpnode init` with
# provider aws commits wan, and that member restarted keeps wan's election
# timeout (it does not step down when a second voter joins).
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
term_of() { lc_status_json "$1" | jq -r .term; }
value_of() { lc_ctl "$1" config get "$2" | awk '{ print $2, $3 }'; }
# first log line of member I matching RE: its time stamp (ISO, ms)
stamp() { grep -m1 -E "$2" "$LC_DIR/n$1/stderr" | awk '{ print $1 }'; }
has_line() { grep -qE "$2" "$LC_DIR/n$1/stderr"; }

for i in 1 2 3 4 5; do lc_conf "$i"; done
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || lc_fail "3 voters"
l=$(lc_wait_leader 10) || lc_fail "no leader"
f=$((l % 3 + 1))
t0=$(term_of "$l")
lc_log "leader n$l, follower n$f, term $t0"

lc_log "refused: an unknown profile, a contradiction"
if lc_ctl "$f" config set cluster-profile fast 2>"$LC_DIR/err"; then
	lc_fail "profile 'fast' accepted"
fi
grep -q "not one of: lan wan" "$LC_DIR/err" || lc_fail "no valid names: $(cat "$LC_DIR/err")"
[ "$(value_of "$l" cluster-profile)" = "lan (default)" ] || lc_fail "profile changed"
if lc_ctl "$f" config set heartbeat-timeout 400 2>"$LC_DIR/err"; then
	lc_fail "heartbeat 400 under an election timeout of 500 accepted"
fi
grep -q "at most half of election-timeout (500)" "$LC_DIR/err" || lc_fail "no reason"

lc_log "lan -> wan"
lc_ctl "$l" config set cluster-profile wan >/dev/null || lc_fail "set wan"
slow() { has_line "$l" "raft heartbeat 30000 ms"; }
lc_until 10 slow || lc_fail "the leader did not slow its heartbeat"
hb=$(stamp "$l" "raft heartbeat 30000 ms")
for i in 1 2 3; do
	[ "$i" = "$l" ] && continue
	w=$(stamp "$i" "timing \(profile wan\): election 60000")
	[ -n "$w" ] || lc_fail "n$i never put the wan timeout in force"
	! [[ "$hb" < "$w" ]] || lc_fail "n$i lengthened its timeout at $w, after the leader slowed at $hb"
	[ "$(value_of "$i" election-timeout)" = "60000 (profile)" ] ||
		lc_fail "n$i: election-timeout $(value_of "$i" election-timeout)"
done
if lc_ctl "$f" config set heartbeat-timeout 40000 2>"$LC_DIR/err"; then
	lc_fail "heartbeat 40000 under the profile's 60000 accepted"
fi
lc_ctl "$f" config set status-interval 30s >/dev/null || lc_fail "explicit key"
[ "$(value_of "$l" status-interval)" = "30s (replicated)" ] || lc_fail "explicit key lost"
[ "$(value_of "$l" heartbeat-timeout)" = "30000 (profile)" ] || lc_fail "profile source"
[ "$(value_of "$f" crosscheck-interval)" = "128 (profile)" ] ||
	lc_fail "crosscheck-interval $(value_of "$f" crosscheck-interval)"
ts=$(now_ms)
lc_ctl "$f" config set token-uses 3 >/dev/null || lc_fail "write under wan"
[ $(($(now_ms) - ts)) -lt 2000 ] || lc_fail "a write under wan took $(($(now_ms) - ts)) ms"
[ "$(term_of "$l")" = "$t0" ] || lc_fail "term changed under wan"

lc_log "a follower restarted under wan: the leader's heartbeat back at wan's"
follows=$(grep -c "following leader" "$LC_DIR/n$f/stderr" || true)
lc_stop "$f"
lc_run "$f"
back() { [ "$(grep -c "following leader" "$LC_DIR/n$f/stderr")" -gt "$follows" ]; }
lc_until 40 back || lc_fail "n$f does not follow a leader after its restart"
# until it applies the wan entry again it runs (and reports) lan's 500 ms
# election timeout, and the leader's heartbeat protects it meanwhile
slow_again() { grep "raft heartbeat" "$LC_DIR/n$l/stderr" | tail -n 1 | grep -q "heartbeat 30000 ms"; }
lc_until 10 slow_again || lc_fail "the leader's heartbeat is not back at 30000 ms"
[ "$(term_of "$l")" = "$t0" ] || lc_fail "term changed after n$f restarted"

lc_log "wan -> lan (through a follower)"
lc_ctl "$f" config set cluster-profile lan >/dev/null || lc_fail "set lan"
fast() { has_line "$l" "raft heartbeat 50 ms"; }
lc_until 10 fast || lc_fail "the leader did not speed up"
hb=$(stamp "$l" "raft heartbeat 50 ms")
lan() { has_line "$1" "timing \(profile lan\): election 500"; }
for i in 1 2 3; do
	[ "$i" = "$l" ] && continue
	lc_until 5 lan "$i" || lc_fail "n$i did not go back to lan"
	w=$(stamp "$i" "timing \(profile lan\): election 500")
	! [[ "$w" < "$hb" ]] || lc_fail "n$i shortened its timeout at $w, before the leader sped up at $hb"
done
sleep 2
[ "$(term_of "$l")" = "$t0" ] || lc_fail "term changed: $t0 -> $(term_of "$l")"
[ "$(lc_wait_leader 5)" = "$l" ] || lc_fail "the leader changed"

lc_log "init with provider aws: wan"
sed -i 's/^provider other$/provider aws/' "$(lc_memdir 4)/ntpnode.conf"
lc_init 4
wan4() { [ "$(value_of 4 cluster-profile)" = "wan (replicated)" ]; }
lc_until 5 wan4 || lc_fail "init on aws: cluster-profile $(value_of 4 cluster-profile)"

lc_log "restarted under wan, the leader keeps wan's election timeout"
# (its log is replayed before raft runs: the timeout must still be put in
# force; with lan's 500 ms it would step down once a second voter is late)
lc_stop 4
lc_run 4
lc_join 5 "$(lc_ctl 4 token create)"
voter5() { lc_status_json 4 | jq -e '.members[]|select(.name=="n5" and .role=="voter")' >/dev/null; }
lc_until 30 voter5 || lc_fail "n5 did not become a voter"
sleep 3
! has_line 4 "stepped down" || lc_fail "n4 stepped down: $(grep "stepped down" "$LC_DIR/n4/stderr")"
[ "$(lc_leader_seen_by 5)" = 4 ] || lc_fail "n4 is not the leader any more"
lc_log "PASS"
