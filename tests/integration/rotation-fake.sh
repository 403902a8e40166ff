#!/usr/bin/env bash
# The rotation on loopback with the fake provider hook (infra/providers/fake):
# 4 members, each a "VM" of the fake cloud (a stopped member is a terminated
# process whose datadir stays; a started one runs again). n1 has no hook:
# it asks the members that have one. Checks:
#  - a schedule change is acted on within 5 s (the figure is printed);
#  - `rotation set n4 never`: parked, spare, stopped; process gone, datadir
#    kept; `always`: started again, standby or voter;
#  - the leader scheduled off: leadership first, then its vote, then
#    drained, then stopped, in that order in the audit trail;
#  - unknown targets and malformed windows are refused and change nothing;
#    a conflict with min-serving is refused, --force stores it marked;
#    config set min-serving runs the same check;
#  - a hook that fails is retried and alerted, then the step goes on;
#  - a member stopped by hand is noticed (hook status) and started again;
#  - the leader killed in the middle of a stop: the next one finishes it,
#    and the dead leader is noticed and started again;
#  - a start that never serves is stopped again after
#    rotation-start-timeout;
#  - the hours ledger commits (test clock: one scheduler hour per 6 s).
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
command -v jq >/dev/null || exit 77
lc_setup "${LC_WORKDIR:-}"
lc_fake_cloud
fake=$LC_FAKE

now_ms() { echo $(($(date +%s%N) / 1000000)); }
now_s=$(date +%s)
# the scheduler starts at wed 2025-01-08 12:00 UTC, 600x (an hour in 6 s)
clock="rotation-test-clock $now_s 1736337600 600"
for i in 1 2 3 4; do
	extra=("test-mode yes" "$clock" "instance-id n$i")
	[ "$i" = 1 ] || extra+=("provider-hook fake $fake")
	lc_conf "$i" "${extra[@]}"
	lc_fake_vm "$i"
done
"$NTPNODE" check -c "$(lc_memdir 2)/ntpnode.conf" >/dev/null ||
	lc_fail "check refused a good config"

lc_log "4 members, each a VM of the fake cloud"
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_join 4 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || lc_fail "3 voters"
lc_fake_adopt 1 2 3 4
for i in 1 2 3 4; do
	echo "start $(now_ms)" >"$NTPMC_FAKE_CLOUD/n$i/events"
done

rstat() { lc_ctl "$1" -o json rotation status 2>/dev/null; }
# field I NAME KEY: member NAME's KEY in member I's rotation status
field() {
	rstat "$1" | jq -r --arg n "$2" --arg k "$3" \
		'.members[]|select(.name==$n)|.[$k]'
}
state_is() { [ "$(field "$1" "$2" state)" = "$3" ]; }
alive_vm() { [ "$("$fake" status "$1")" = running ]; }
leader() { lc_wait_leader 10 "$@"; }
# members whose process runs (whose fake VM is running), one a line
live() {
	local i
	for i in 1 2 3 4; do alive_vm "n$i" && echo "$i"; done
	return 0
}
role_of() {
	lc_status_json "$1" | jq -r --arg n "$2" \
		'.members[]|select(.name==$n)|.role'
}

lc_until 10 state_is 1 n4 running || lc_fail "status: $(rstat 1)"
[ "$(field 2 n4 planned)" = on ] || lc_fail "n4 not planned on"
lc_ctl 2 rotation status >&2

lc_log "refused, nothing changed: unknown target, bad windows, conflict"
if lc_ctl 2 rotation set nope never 2>"$LC_DIR/err"; then
	lc_fail "unknown target accepted"
fi
grep -q "unknown target 'nope'" "$LC_DIR/err" || lc_fail "$(cat "$LC_DIR/err")"
if lc_ctl 2 rotation set n4 mon-xyz 2>"$LC_DIR/err"; then
	lc_fail "bad windows accepted"
fi
grep -q "'mon-xyz': a day range is DAY-DAY" "$LC_DIR/err" ||
	lc_fail "$(cat "$LC_DIR/err")"
lc_ctl 1 rotation set provider:fake mon-wed 2>"$LC_DIR/err" &&
	lc_fail "a conflict was accepted"
grep -q "refused, nothing changed: at 2025-01-09 00:00 UTC (thu 00:00) only 0 of 4 members" \
	"$LC_DIR/err" || lc_fail "$(cat "$LC_DIR/err")"
[ "$(rstat 1 | jq '.schedule|length')" = 0 ] || lc_fail "something was stored"
# min-serving 4 fits while every member is on; then n3 off is a conflict
lc_ctl 1 config set min-serving 4 >/dev/null ||
	lc_fail "min-serving 4 refused with every member on"
if lc_ctl 1 rotation set n3 never 2>"$LC_DIR/err"; then
	lc_fail "n3 never accepted below min-serving 4"
fi
grep -q "only 3 of 4 members would be planned on, fewer than min(min-serving 4, members 4) = 4" \
	"$LC_DIR/err" || lc_fail "$(cat "$LC_DIR/err")"
lc_ctl 1 rotation set --force n3 never | grep -q "stored marked conflict" ||
	lc_fail "--force did not store it marked"
[ "$(rstat 1 | jq -r '.schedule[0].conflict')" = true ] || lc_fail "not marked"
sleep 2
[ "$(field 1 n3 state)" = running ] || lc_fail "n3 not held on"
field 1 n3 reason | grep -q "held: min-serving 4" || lc_fail "$(field 1 n3 reason)"
lc_ctl 1 config set min-serving 2 >/dev/null || lc_fail "min-serving 2"
if lc_ctl 1 config set min-serving 4 2>"$LC_DIR/err"; then
	lc_fail "min-serving 4 accepted with n3 never"
fi
grep -q "with min-serving 4 the schedule falls short" "$LC_DIR/err" ||
	lc_fail "$(cat "$LC_DIR/err")"
lc_ctl 1 rotation unset n3 >/dev/null || lc_fail "unset n3"
[ "$(rstat 1 | jq '.schedule|length')" = 0 ] || lc_fail "entry kept"
lc_until 30 state_is 1 n3 running || lc_fail "n3 not running"

lc_log "a schedule change acted on: n4 never"
t0=$(now_ms)
lc_ctl 3 rotation set n4 never >/dev/null || lc_fail "rotation set"
lc_until 10 bash -c "! [ \"\$('$NTPCTL' -s '$(lc_sock 3)' -o json rotation status |
	jq -r '.members[]|select(.name==\"n4\")|.state')\" = running ]" ||
	lc_fail "n4 not acted on"
dt=$(($(now_ms) - t0))
lc_log "schedule change acted on after $dt ms (status polled every 50 ms)"
[ "$dt" -le 5000 ] || lc_fail "acted on after $dt ms > 5 s"
lc_until 30 state_is 2 n4 stopped || lc_fail "n4 not stopped: $(rstat 2)"
alive_vm n4 && lc_fail "n4's process still runs"
[ -d "$(lc_memdir 4)/data" ] || lc_fail "n4's datadir is gone"
[ "$(field 2 n4 parked)" = true ] || lc_fail "n4 not parked"
[ "$(role_of 2 n4)" = spare ] || lc_fail "n4 is not spare"
lc_ctl 2 rotation status >&2

lc_log "n4 always: started again"
lc_ctl 2 rotation set n4 always >/dev/null || lc_fail "n4 always"
lc_until 30 state_is 2 n4 running || lc_fail "n4 not running: $(rstat 2)"
alive_vm n4 || lc_fail "n4's VM is not running"
lc_until 20 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock 1)' -o json cluster status |
	jq -r '.members[]|select(.name==\"n4\")|.role')\" != spare ]" ||
	lc_fail "n4 still spare"

lc_log "the leader scheduled off"
l=$(leader) || lc_fail "no leader"
lc_ctl 2 rotation set "n$l" never >/dev/null || lc_fail "leader never"
lc_until 40 state_is 2 "n$l" stopped || lc_fail "n$l not stopped: $(rstat 2)"
mapfile -t lv < <(live)
nl=$(leader "${lv[@]}") || lc_fail "no leader after"
[ "$nl" != "$l" ] || lc_fail "n$l still leads"
rstat 2 | jq -r '.log[].text' | grep "rotation n$l " >"$LC_DIR/steps"
cat "$LC_DIR/steps" >&2
grep -n . "$LC_DIR/steps" | tail -5 | cut -d: -f2- >"$LC_DIR/last5"
expect=("stopping (parked): scheduled off (never on): leadership and vote move away first"
	"stopping (parked): not the leader: its vote moves away"
	"stopping (parked): spare: out of every count, still answering NTP"
	"stopping (parked): drained: stopping the VM"
	"stopped (parked):")
k=0
while IFS= read -r line; do
	case $line in
	*"${expect[k]}"*) ;;
	*) lc_fail "step $k: '$line' is not '${expect[k]}'" ;;
	esac
	k=$((k + 1))
done <"$LC_DIR/last5"
[ "$k" = 5 ] || lc_fail "5 steps expected: $(cat "$LC_DIR/steps")"
lc_ctl 2 rotation unset "n$l" >/dev/null || lc_fail "unset n$l"
lc_until 40 state_is 2 "n$l" running || lc_fail "n$l not back: $(rstat 2)"

lc_log "a hook that fails: retried, alerted, then done"
touch "$NTPMC_FAKE_CLOUD/n4/fail"
lc_ctl 2 rotation set n4 never >/dev/null || lc_fail "n4 never"
has_alert() { rstat "$1" | jq -e '.alerts|map(select(test("hook stop for n4 failed 3 times")))|length > 0' >/dev/null; }
lc_until 40 has_alert 2 || lc_fail "no alert: $(rstat 2)"
lc_ctl 2 rotation status | grep "^n4 " >&2
rm -f "$NTPMC_FAKE_CLOUD/n4/fail"
lc_until 60 state_is 2 n4 stopped || lc_fail "n4 not stopped: $(rstat 2)"

lc_log "a member stopped by hand is noticed and started again"
lc_ctl 2 rotation unset n4 >/dev/null || lc_fail "unset n4"
lc_until 30 state_is 2 n4 running || lc_fail "n4 not running"
lc_until 20 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock 1)' -o json cluster status |
	jq -r '.members[]|select(.name==\"n4\")|.reachable')\" = true ]" ||
	lc_fail "n4 unreachable"
"$fake" stop n4
found() { rstat "$1" | jq -r '.log[].text' | grep -q "rotation n4 stopped (parked): found stopped"; }
lc_until 40 found 2 || lc_fail "not noticed: $(rstat 2)"
lc_until 40 state_is 2 n4 running || lc_fail "n4 not started again: $(rstat 2)"

lc_log "the leader dies in the middle of a stop: the next one finishes it"
echo 4 >"$NTPMC_FAKE_CLOUD/n4/slow"
lc_ctl 2 rotation set n4 never >/dev/null || lc_fail "n4 never"
in_hook() { rstat "$1" | jq -r '.log[-1].text' | grep -q "rotation n4 stopping (parked): drained: stopping the VM"; }
l=$(leader) || lc_fail "no leader"
[ "$l" != 4 ] || lc_fail "n4 leads"
lc_until 30 in_hook "$l" || lc_fail "n4 not at its stop: $(rstat "$l")"
pid=$(cat "$NTPMC_FAKE_CLOUD/n$l/pid")
kill -9 "$pid"
lc_log "leader n$l killed while n4's VM stops"
rest=()
for i in 1 2 3; do [ "$i" != "$l" ] && rest+=("$i"); done
nl=$(lc_wait_leader 10 "${rest[@]}") || lc_fail "no new leader"
lc_until 40 state_is "$nl" n4 stopped || lc_fail "n4's stop not finished: $(rstat "$nl")"
rm -f "$NTPMC_FAKE_CLOUD/n4/slow"
lc_ctl "$nl" rotation unset n4 >/dev/null || lc_fail "unset n4"
lc_until 40 state_is "$nl" n4 running || lc_fail "n4 not running: $(rstat "$nl")"
# the dead leader is noticed (its VM says stopped) and started again
lc_until 60 state_is "$nl" "n$l" running || lc_fail "n$l not restarted: $(rstat "$nl")"
rstat "$nl" | jq -r '.log[].text' | grep -q "rotation n$l stopped (parked): found stopped" ||
	lc_fail "the crash was not recorded"

lc_log "a start that never serves is stopped again"
lc_ctl "$nl" config set rotation-start-timeout 30s >/dev/null || lc_fail "timeout"
lc_ctl "$nl" rotation set n4 never >/dev/null || lc_fail "n4 never"
lc_until 40 state_is "$nl" n4 stopped || lc_fail "n4 not stopped"
printf '#!/bin/sh\nexec sleep 600\n' >"$NTPMC_FAKE_CLOUD/n4/start"
lc_ctl "$nl" rotation set n4 always >/dev/null || lc_fail "n4 always"
gave_up() { rstat "$1" | jq -r '.log[].text' | grep -q "rotation n4 stopped (parked): its start failed"; }
lc_until 70 gave_up "$nl" || lc_fail "not stopped again: $(rstat "$nl")"
alive_vm n4 && lc_fail "the failed VM runs"
lc_ctl "$nl" rotation status | grep "^n4 " >&2
# (tried again after another rotation-start-timeout: not waited for)

lc_log "the hours ledger"
lc_ctl "$nl" rotation status >&2
committed=$(rstat "$nl" | jq '[.members[].hours_committed]|min')
awk -v c="$committed" 'BEGIN { exit !(c > 1) }' ||
	lc_fail "hours not committed: $committed"
lc_ctl "$nl" rotation plan --days 2 >&2 || lc_fail "plan"
lc_log "PASS"
