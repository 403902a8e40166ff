#!/usr/bin/env bash
# Quorum-loss recovery with two survivors: 5 voters, kill -9
# three, stop the other two; `recover --check` on both shows the same last
# index:term (offline-consistent); a wrong --at is refused and changes
# nothing; `recover --voters a,b --at I:T` on both; they elect a leader
# between them, take a write, and a fresh member joins.
# Kill steps: 3 (kill -9 of n1, n2, n3).
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

for i in 1 2 3 4 5 6; do lc_conf "$i"; done
conf() { echo "$(lc_memdir "$1")/ntpnode.conf"; }
fp() { (cd "$(lc_memdir "$1")/data" && find . -type f ! -name lock \
	! -name lock.mdb -print0 | sort -z | xargs -0r sha256sum | sha256sum); }

lc_log "5 voters"
lc_init 1
lc_join 2
for i in 3 4 5; do
	t=$(lc_ctl 1 token create) || lc_fail "token create"
	lc_join "$i" "$t"
done
lc_wait_voters 5 40 || lc_fail "5 voters not reached"
lc_ctl 1 config set budget-usd 5.5 || lc_fail "config set"
# every member has applied it before the crash
for i in 1 2 3 4 5; do
	lc_until 5 bash -c "'$NTPCTL' -s '$(lc_sock "$i")' config get budget-usd |
		grep -q 5.50" || lc_fail "n$i did not apply the write"
done

lc_log "kill -9 n1 n2 n3; stop n4 n5"
lc_kill9 1; lc_kill9 2; lc_kill9 3
lc_stop 4; lc_stop 5
"$NTPNODE" recover -c "$(conf 4)" --check >"$LC_DIR/c4" || lc_fail "check n4"
"$NTPNODE" recover -c "$(conf 5)" --check >"$LC_DIR/c5" || lc_fail "check n5"
cat "$LC_DIR/c4" >&2
at4=$(sed -n 's/^last log *index \([0-9]*\), term \([0-9]*\)$/\1:\2/p' "$LC_DIR/c4")
at5=$(sed -n 's/^last log *index \([0-9]*\), term \([0-9]*\)$/\1:\2/p' "$LC_DIR/c5")
if [ -z "$at4" ] || [ "$at4" != "$at5" ]; then
	lc_fail "survivors differ: $at4 vs $at5"
fi
before=$(fp 4)
if "$NTPNODE" recover -c "$(conf 4)" --voters n4,n5 --at "9999:${at4#*:}" \
	>/dev/null 2>"$LC_DIR/err"; then
	lc_fail "a wrong --at was accepted"
fi
grep -q "offline-consistent" "$LC_DIR/err" || lc_fail "no reason for --at"
if "$NTPNODE" recover -c "$(conf 4)" --voters n4,n5 --at x >/dev/null 2>&1; then
	lc_fail "a malformed --at was accepted"
fi
[ "$before" = "$(fp 4)" ] || lc_fail "a refused recover changed n4's datadir"
for i in 4 5; do
	"$NTPNODE" recover -c "$(conf "$i")" --voters n4,n5 --at "$at4" \
		>"$LC_DIR/r$i" || lc_fail "recover n$i"
done
cat "$LC_DIR/r4" >&2
lc_run 4
lc_run 5
l=$(lc_wait_leader 15 4 5) || lc_fail "no leader among n4 n5"
lc_log "leader n$l"
lc_until 10 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock "$l")' -o json cluster status |
	jq '[.members[]|select(.role==\"voter\")]|length')\" = 2 ]" ||
	lc_fail "not 2 voters after recover"
lc_ctl 4 config set budget-usd 6 || lc_fail "write after recover"
lc_until 5 bash -c "'$NTPCTL' -s '$(lc_sock 5)' config get budget-usd |
	grep -q 6.00" || lc_fail "n5 did not apply the write"
t=$(lc_ctl 5 token create) || lc_fail "token create after recover"
lc_join 6 "$t"
lc_until 30 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock "$l")' -o json cluster status |
	jq '[.members[]|select(.role==\"voter\")]|length')\" = 3 ]" ||
	lc_fail "n6 did not become a voter"
lc_log "ok"
