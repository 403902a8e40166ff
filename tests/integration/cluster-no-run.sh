#!/usr/bin/env bash
# `ntpnode join --no-run` and `init --no-run`, as a first-boot script uses
# them before it starts the service: each exits 0 once the node is a
# committed member, without serving NTP or opening the control socket, and
# a later `ntpnode run` on the same datadir is that member.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib-cluster.sh
. "$here/lib-cluster.sh"
command -v jq >/dev/null || { echo "jq needed"; exit 77; }
lc_setup

# foreground NAME CMD...: runs ntpnode as lc_start would, but waits for it
foreground() {
	local d=$1
	shift
	timeout 60 "${LC_SETPRIV[@]}" "$NTPNODE" "$@" >"$d/stdout" \
		2>"$d/stderr" </dev/null
}

lc_conf 1
d1=$(lc_memdir 1)
foreground "$d1" init --no-run -c "$d1/ntpnode.conf" ||
	lc_fail "init --no-run exited $?"
tok=$(tail -n 1 "$d1/stdout")
[ -n "$tok" ] || lc_fail "init --no-run printed no token"
[ ! -e "$(lc_sock 1)" ] || lc_fail "init --no-run left a control socket"
grep -q -- "--no-run" "$d1/stderr" || lc_fail "init --no-run said nothing"
lc_run 1

lc_conf 2
d2=$(lc_memdir 2)
(umask 077 && printf '%s\n' "$tok" >"$d2/token")
foreground "$d2" join --no-run -c "$d2/ntpnode.conf" \
	--token-file "$d2/token" || lc_fail "join --no-run exited $?"
[ ! -e "$(lc_sock 2)" ] || lc_fail "join --no-run left a control socket"
# it served no NTP: nothing of it on its port
if ss -Hun | awk '{print $4}' | grep -q ":$(lc_nport 2)\$"; then
	lc_fail "join --no-run left its NTP port bound"
fi
lc_run 2
# the role policy promotes the second member: two voters, both reachable
lc_wait_voters 2 30 || lc_fail "n2 did not become a voter after run"
lc_log "init --no-run and join --no-run: ok"
