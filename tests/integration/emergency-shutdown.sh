#!/usr/bin/env bash
# ntpctl emergency-shutdown on loopback with the fake provider hook
# (infra/providers/fake): 3 members, each a VM of the fake cloud with the
# hook configured (through a wrapper that logs each call). Checks:
#  - a wrong phrase (lowercase, extra blanks, none on stdin) is refused:
#    non-zero, every member still runs, no backup, not frozen;
#  - --dry-run prints the steps (this member last), calls no hook;
#  - the real run on n2: the backup is written, the freeze committed, n1
#    and n3 stopped, n2 last (as printed and as the hooks ran), every
#    process gone, exit 0;
#  - n1 and n3 started again (quorum): still frozen, the rotation does not
#    start n2; `rotation resume` lifts it and the rotation starts n2;
#  - no quorum: n1 and n3 crash (kill -9), the run on n2 backs up (its
#    own state when no leader answers), says the freeze was not committed,
#    stops what its hook reaches (n2 itself last) and exits non-zero;
#  - n2 without the hook: the dry run flags the leader's own stop; the
#    leader runs the other member's stop and n2's own (relayed); the
#    leader's own stop cannot run (no other running member has the
#    hook): exit non-zero, naming it and why.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
command -v jq >/dev/null || exit 77
lc_setup "${LC_WORKDIR:-}"
lc_fake_cloud
fake=$LC_FAKE

hook=$LC_DIR/hook
hooklog=$LC_DIR/hook.log
: >"$hooklog"
{
	echo '#!/bin/sh'
	echo "echo \"\$1 \$2\" >>'$hooklog'"
	echo "exec '$fake' \"\$@\""
} >"$hook"
chmod +x "$hook"
for i in 1 2 3; do
	lc_conf "$i" "test-mode yes" "instance-id n$i" "provider-hook fake $hook"
	lc_fake_vm "$i"
done
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || lc_fail "3 voters"
lc_fake_adopt 1 2 3
# only the fake cloud stops them from here on
LC_PID=()

vm() { "$fake" status "n$1"; }
all_running() { [ "$(vm 1)$(vm 2)$(vm 3)" = runningrunningrunning ]; }
frozen() { lc_ctl "$1" -o json rotation status | jq -r .frozen; }
es() {
	local i=$1
	shift
	timeout 120 "$NTPCTL" -s "$(lc_sock "$i")" emergency-shutdown "$@"
}
stops() { grep -cE '^(stop|terminate|release) ' "$hooklog" || true; }

lc_log "a wrong phrase changes nothing"
for phrase in "i understand" "I  UNDERSTAND" "I UNDERSTAND " ""; do
	if printf '%s\n' "$phrase" | es 2 --backup "$LC_DIR/bad.bk" \
		>"$LC_DIR/out" 2>"$LC_DIR/err"; then
		lc_fail "phrase '$phrase' accepted"
	fi
	grep -q "refused, nothing changed: the phrase must be exactly 'I UNDERSTAND'" \
		"$LC_DIR/err" || lc_fail "phrase '$phrase': $(cat "$LC_DIR/err")"
done
if es 2 --confirm "I understand" --backup "$LC_DIR/bad.bk" 2>"$LC_DIR/err"; then
	lc_fail "--confirm 'I understand' accepted"
fi
if es 2 --confirm 2>"$LC_DIR/err"; then lc_fail "--confirm without a value"; fi
grep -q -- "--confirm needs a value" "$LC_DIR/err" || lc_fail "$(cat "$LC_DIR/err")"
if es 2 --now 2>"$LC_DIR/err"; then lc_fail "--now accepted"; fi
grep -q "unknown option '--now'" "$LC_DIR/err" || lc_fail "$(cat "$LC_DIR/err")"
if es 2 stop n1 2>"$LC_DIR/err"; then lc_fail "an argument accepted"; fi
[ ! -e "$LC_DIR/bad.bk" ] || lc_fail "a backup was written"
all_running || lc_fail "a member stopped"
[ "$(frozen 1)" = false ] || lc_fail "frozen by a refused run"
[ "$(stops)" = 0 ] || lc_fail "a hook ran: $(cat "$hooklog")"

lc_log "--dry-run prints the steps and calls no hook"
es 2 --dry-run --backup "$LC_DIR/dry.bk" >"$LC_DIR/out" </dev/null ||
	lc_fail "dry run: $(cat "$LC_DIR/out")"
cat "$LC_DIR/out" >&2
grep -q "DRY RUN" "$LC_DIR/out" || lc_fail "not marked a dry run"
[ "$(grep -E '^  n[0-9] ' "$LC_DIR/out" | tail -1 | awk '{print $1}')" = n2 ] ||
	lc_fail "n2 is not last"
grep -q "this member, last" "$LC_DIR/out" || lc_fail "own member not named"
[ ! -e "$LC_DIR/dry.bk" ] || lc_fail "the dry run wrote a backup"
[ "$(stops)" = 0 ] || lc_fail "the dry run ran a hook: $(cat "$hooklog")"
all_running || lc_fail "the dry run stopped a member"
[ "$(frozen 1)" = false ] || lc_fail "the dry run froze the rotation"

lc_log "the real run on n2"
t0=$(date +%s%N)
es 2 --confirm "I UNDERSTAND" --backup "$LC_DIR/es.bk" >"$LC_DIR/out" \
	2>"$LC_DIR/err" || lc_fail "exit $?: $(cat "$LC_DIR/out" "$LC_DIR/err")"
lc_log "emergency shutdown took $((($(date +%s%N) - t0) / 1000000)) ms"
cat "$LC_DIR/out" >&2
[ -s "$LC_DIR/es.bk" ] || lc_fail "no backup"
grep -q "^written    $LC_DIR/es.bk" "$LC_DIR/out" || lc_fail "backup not printed"
grep -q "^freeze     committed" "$LC_DIR/out" || lc_fail "freeze not committed"
grep -E '^n[0-9] +fake +stop +' "$LC_DIR/out" >"$LC_DIR/steps"
order=$(awk '{print $1}' "$LC_DIR/steps" | tr '\n' ' ')
case $order in
"n1 n3 n2 " | "n3 n1 n2 ") ;;
*) lc_fail "order: $(cat "$LC_DIR/steps")" ;;
esac
[ "$(grep -c ' stopped' "$LC_DIR/steps")" = 3 ] || lc_fail "not every member stopped"
grep -q "^done: every member's VM stopped" "$LC_DIR/out" || lc_fail "no done line"
# the hooks ran in the order printed
[ "$(grep -E '^stop ' "$hooklog" | awk '{print $2}' | tr '\n' ' ')" = "$order" ] ||
	lc_fail "the hooks ran: $(cat "$hooklog")"
for i in 1 2 3; do
	[ "$(vm "$i")" = stopped ] || lc_fail "n$i still runs"
	[ -d "$(lc_memdir "$i")/data" ] || lc_fail "n$i's datadir is gone"
done

lc_log "n1 and n3 again: frozen, n2 stays stopped"
"$fake" start n1
"$fake" start n3
lc_until 20 lc_sock_up 1 || lc_fail "n1 not back"
lc_until 20 lc_sock_up 3 || lc_fail "n3 not back"
l=$(lc_wait_leader 20 1 3) || lc_fail "no leader of n1, n3"
[ "$(frozen "$l")" = true ] || lc_fail "not frozen after the restart"
lc_ctl "$l" rotation status | grep -q "^FROZEN: since .* by ntpctl emergency-shutdown" ||
	lc_fail "status: $(lc_ctl "$l" rotation status)"
# unfrozen, a new leader asks n2's hook at once and starts it again
sleep 8
[ "$(vm 2)" = stopped ] || lc_fail "n2 was started while frozen"
if grep -q "^start " "$hooklog"; then lc_fail "a start hook ran while frozen"; fi

lc_log "rotation resume: the rotation starts n2 again"
lc_ctl 3 rotation resume | grep -q "rotation resumed" || lc_fail "resume"
[ "$(frozen "$l")" = false ] || lc_fail "still frozen"
if lc_ctl 3 rotation resume 2>"$LC_DIR/err"; then lc_fail "resumed twice"; fi
grep -q "not frozen" "$LC_DIR/err" || lc_fail "$(cat "$LC_DIR/err")"
lc_until 40 bash -c "[ \"\$('$fake' status n2)\" = running ]" ||
	lc_fail "n2 not started after resume"
lc_until 20 lc_sock_up 2 || lc_fail "n2 not answering"
grep -q "^start n2" "$hooklog" || lc_fail "no start hook: $(cat "$hooklog")"
# n2 knows the membership once it follows the leader again
lc_wait_leader 20 1 2 3 >/dev/null || lc_fail "n2 does not follow"
lc_until 20 bash -c "'$NTPCTL' -s '$(lc_sock 2)' audit 100 | grep -q 'rotation resumed'" ||
	lc_fail "n2 has not applied the resume"

lc_log "no quorum: n1 and n3 crash, the run on n2"
# killed, not stopped: a member that stops cleanly hands its vote away
# first, and the one left could commit alone
for i in 1 3; do
	kill -9 "$(cat "$NTPMC_FAKE_CLOUD/n$i/pid")"
done
lc_until 10 bash -c "[ \"\$('$fake' status n1)\$('$fake' status n3)\" = stoppedstopped ]" ||
	lc_fail "n1, n3 still run"
mkdir -p "$LC_DIR/cwd"
: >"$hooklog"
if (cd "$LC_DIR/cwd" && es 2 --confirm "I UNDERSTAND") >"$LC_DIR/out" \
	2>"$LC_DIR/err"; then
	lc_fail "exit 0 without quorum: $(cat "$LC_DIR/out")"
fi
cat "$LC_DIR/out" "$LC_DIR/err" >&2
ls "$LC_DIR/cwd"/ntpmc-backup-*Z >/dev/null 2>&1 || lc_fail "no default backup"
grep -q "^freeze     NOT COMMITTED" "$LC_DIR/out" || lc_fail "freeze said committed"
grep -q "the freeze could NOT be committed (no quorum)" "$LC_DIR/err" ||
	lc_fail "no word on the freeze"
[ "$(grep -E '^n[0-9] ' "$LC_DIR/out" | tail -1 | awk '{print $1, $4}')" = "n2 stopped" ] ||
	lc_fail "n2 not stopped last"
[ "$(vm 2)" = stopped ] || lc_fail "n2 still runs"
[ "$(tail -1 "$hooklog")" = "stop n2" ] || lc_fail "hooks: $(cat "$hooklog")"

lc_log "n2 without the hook: the leader runs it (relayed); what it cannot reach fails"
sed -i '/^provider-hook /d' "$(lc_memdir 2)/ntpnode.conf"
for i in 1 2 3; do "$fake" start "n$i"; done
for i in 1 2 3; do lc_until 20 lc_sock_up "$i" || lc_fail "n$i not back"; done
l=$(lc_wait_leader 20 1 2 3) || lc_fail "no leader"
if [ "$l" = 2 ]; then
	lc_ctl 2 leader transfer n1 >/dev/null || lc_fail "leader transfer"
	l=$(lc_wait_leader 20 1 2 3) || lc_fail "no leader"
	[ "$l" != 2 ] || lc_fail "n2 still leads"
fi
other=$((l == 1 ? 3 : 1))
# the dry run already knows the leader's own stop cannot run
es 2 --dry-run >"$LC_DIR/out" 2>&1 || lc_fail "dry run without the hook"
grep -q "^  n$l fake stop (NO HOOK REACHABLE)" "$LC_DIR/out" ||
	lc_fail "dry run: the leader's stop not flagged: $(cat "$LC_DIR/out")"
grep -q "^  n$other fake stop (through the leader)" "$LC_DIR/out" ||
	lc_fail "dry run: n$other's stop"
: >"$hooklog"
if es 2 --confirm "I UNDERSTAND" --backup "$LC_DIR/relay.bk" >"$LC_DIR/out" \
	2>"$LC_DIR/err"; then
	lc_fail "exit 0 although the leader's own stop cannot run"
fi
cat "$LC_DIR/out" "$LC_DIR/err" >&2
grep -q "^  n$other fake stop (through the leader)" "$LC_DIR/out" || lc_fail "plan"
grep -E '^n[0-9] ' "$LC_DIR/out" | awk '{print $1, $4}' >"$LC_DIR/steps"
[ "$(tr '\n' ' ' <"$LC_DIR/steps")" = "n$other stopped n$l FAILED: n2 stopped " ] ||
	lc_fail "steps: $(cat "$LC_DIR/steps")"
# why: nobody running has the hook (or the one asked, just stopped, no
# longer answers)
grep -qE "NOT DONE: 1 of 3 members failed: n$l stop \(hook stop for n$l \(fake\) failed: (no running member has a hook for fake|member [0-9]+ that runs it is no longer heard)" \
	"$LC_DIR/err" || lc_fail "the failure is not named"
[ "$(vm "$other")$(vm 2)$(vm "$l")" = stoppedstoppedrunning ] || lc_fail "VMs"
lc_log "PASS"
