#!/usr/bin/env bash
# Quorum-loss recovery onto a drained member:
# 3 voters, drain n3 (spare now), kill -9 n1 and n2: the only datadir left
# is the drained spare's. `recover --voters n3` makes it the sole voter;
# its first leadership clears its drained flag (the operator chose it to
# vote), so a member that joins afterwards is promoted beside it instead
# of replacing it.
# Kill steps: 2 (kill -9 of n1 and n2).
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

for i in 1 2 3 4; do lc_conf "$i"; done
conf() { echo "$(lc_memdir "$1")/ntpnode.conf"; }
member() { lc_status_json "$1" | jq -c --arg n "$2" '.members[]|select(.name==$n)|{role,drained}'; }
is() { [ "$(member "$1" "$2")" = "$3" ]; }
voters() {
	[ "$(lc_status_json "$1" | jq '[.members[]|select(.role=="voter")]|length')" = "$2" ]
}

lc_log "3 voters"
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || lc_fail "3 voters"
l=$(lc_wait_leader 10) || lc_fail "no leader"
[ "$l" = 3 ] && { lc_ctl 3 leader transfer n1 >/dev/null || lc_fail "transfer"; }
lc_log "drain n3"
lc_ctl 1 node drain n3 >&2 || lc_fail "drain n3"
lc_until 10 is 1 n3 '{"role":"spare","drained":true}' ||
	lc_fail "n3 is not a drained spare: $(member 1 n3)"

lc_log "quorum loss: kill -9 n1 and n2; recover onto drained n3"
lc_kill9 1
lc_kill9 2
lc_stop 3
"$NTPNODE" recover -c "$(conf 3)" --voters n3 >"$LC_DIR/recover.out" ||
	lc_fail "recover --voters n3"
cat "$LC_DIR/recover.out" >&2
lc_run 3
nl=$(lc_wait_leader 10 3) || lc_fail "n3 did not lead after recover"
[ "$nl" = 3 ] || lc_fail "leader n$nl"
lc_until 10 is 3 n3 '{"role":"voter","drained":false}' ||
	lc_fail "n3 after recover: $(member 3 n3)"
grep -q "(n3) votes in the new configuration: its drained flag is cleared" \
	"$(lc_memdir 3)/stderr" || lc_fail "no log line for the cleared flag"

lc_log "a new member joins beside n3"
lc_join 4 "$(lc_ctl 3 token create)"
lc_until 30 voters 3 2 || lc_fail "not 2 voters after the join"
is 3 n3 '{"role":"voter","drained":false}' || lc_fail "n3 lost its vote: $(member 3 n3)"
lc_log "ok"
