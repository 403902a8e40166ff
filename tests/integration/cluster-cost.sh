#!/usr/bin/env bash
# The egress ledger on three members on loopback: NTP requests to each
# member, `ntpctl -o json cost status` asked of a follower (forwarded to
# the leader) with exactly the documented shape and each member's ntp
# bytes = its replies x 76; then the leader is killed (kill -9) and
# restarted: the committed ledger survives the leader change and the
# restart, nothing is counted twice, and the restarted member's new
# replies are added; budget crossings run the alert hook once each, on
# the leader only, and a hook that hangs is killed after its timeout
# (docs/cost.md); with no provider hook anywhere, emergency-shutdown
# --dry-run on the leader flags every step.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

# Every member has the hook; only the leader may run it.
cat >"$LC_DIR/hook.sh" <<EOF
#!/bin/sh
ev=\$(cat)
echo "\$ev" >>"$LC_DIR/alerts"
case "\$ev" in *'"threshold_percent":100'*) sleep 60 ;; esac
EOF
chmod +x "$LC_DIR/hook.sh"
for i in 1 2 3; do
	lc_conf "$i" "ratelimit off" "alert-hook $LC_DIR/hook.sh timeout 2"
done
lc_init 1
lc_wait_leader 10 1 >/dev/null || lc_fail "n1 did not lead"
LC_TOKEN=$(lc_ctl 1 token create --uses 2) || lc_fail "token create"
lc_join 2
lc_join 3
lc_wait_voters 3 30 || lc_fail "no three voters"
lc_ctl 1 config set ledger-interval 5s >/dev/null || lc_fail "config set"
lc_ctl 1 config set egress-allowance-other 1GB >/dev/null || lc_fail "config set"

# No member has a provider hook: asked of the leader (it hears who has
# which), the dry run flags every step instead of promising them.
l=$(lc_wait_leader 10 1 2 3) || lc_fail "no leader"
lc_ctl "$l" emergency-shutdown --dry-run >"$LC_DIR/dry" 2>&1 ||
	lc_fail "dry run: $(cat "$LC_DIR/dry")"
[ "$(grep -c '(NO HOOK REACHABLE' "$LC_DIR/dry")" = 3 ] ||
	lc_fail "dry run on the leader, no hooks: $(cat "$LC_DIR/dry")"

# ask I N: N client requests to member I, one at a time; all answered.
ask() {
	python3 - "$(lc_nport "$1")" "$2" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
req = bytes([0x23]) + bytes(47)
for _ in range(n):
    s.sendto(req, ("127.0.0.1", port))
    assert len(s.recv(100)) == 48
PY
}
ask 1 60
ask 2 40
ask 3 20

# ntp_is I WANT...: cost status asked of member I shows each member's ntp
# bytes (n1 n2 n3) as WANT.
ntp_is() {
	local i=$1
	shift
	lc_ctl "$i" -o json cost status 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
want = [int(x) for x in sys.argv[1:]]
got = {m["name"]: m["bytes"]["ntp"] for m in v["members"]}
sys.exit(0 if [got.get("n%d" % (k + 1)) for k in range(3)] == want else 1)
' "$@"
}
lc_until 30 ntp_is 2 $((60 * 76)) $((40 * 76)) $((20 * 76)) ||
	lc_fail "cost status: $(lc_ctl 2 -o json cost status)"

lc_log "the shape, exactly"
lc_ctl 3 -o json cost status | python3 -c '
import json, re, sys
v = json.load(sys.stdin)
assert set(v) == {"month", "budget_usd", "projected_cost_usd", "budget_state",
                  "providers", "members"}, v.keys()
assert re.fullmatch(r"\d{4}-\d{2}", v["month"]), v["month"]
assert v["budget_state"] in ("ok", "50", "80", "100")
assert isinstance(v["budget_usd"], (int, float))
assert isinstance(v["projected_cost_usd"], (int, float))
assert len(v["providers"]) == 1
p = v["providers"][0]
assert set(p) == {"name", "bytes", "projected_bytes", "allowance_bytes",
                  "projected_cost_usd"}, p.keys()
assert p["name"] == "other" and p["allowance_bytes"] == 10 ** 9, p
assert len(v["members"]) == 3
tot = 0
for m in v["members"]:
    assert set(m) == {"name", "provider", "bytes", "projected_bytes",
                      "governor"}, m.keys()
    assert set(m["bytes"]) == {"ntp", "crosscheck", "cluster", "other"}
    assert m["provider"] == "other" and m["governor"] in ("off", "on", "limiting")
    assert m["bytes"]["cluster"] > 0, "no cluster traffic counted"
    tot += sum(m["bytes"].values())
assert p["bytes"] == tot, (p["bytes"], tot)
'
lc_ctl 1 cost status >"$LC_DIR/table" || lc_fail "cost status"
cat "$LC_DIR/table" >&2
grep -q "^PROVIDER" "$LC_DIR/table" || lc_fail "no table"

lc_log "committed, then the leader dies: the ledger survives"
sleep 7 # a ledger-interval and a status report: committed
lc_kill9 1
l=$(lc_wait_leader 15 2 3) || lc_fail "no new leader"
lc_log "new leader n$l"
lc_run 1
ask 1 10
lc_until 40 ntp_is 3 $((70 * 76)) $((40 * 76)) $((20 * 76)) ||
	lc_fail "after the leader change: $(lc_ctl 3 -o json cost status)"
sleep 7
lc_ctl 1 -o json cost status >/dev/null || lc_fail "cost status on n1"
ntp_is 2 $((70 * 76)) $((40 * 76)) $((20 * 76)) ||
	lc_fail "counted twice or lost: $(lc_ctl 2 -o json cost status)"

lc_log "budget crossings: 50 %, then 100 % (80 passed over), once each"
total() {
	lc_ctl 2 -o json cost status | python3 -c '
import json, sys; print(json.load(sys.stdin)["providers"][0]["bytes"])'
}
t=$(total)
lc_ctl 2 config set egress-allowance-other $((t * 19 / 10)) >/dev/null ||
	lc_fail "config set"
alerts() { [ "$(grep -c threshold_percent "$LC_DIR/alerts" 2>/dev/null)" = "$1" ]; }
lc_until 25 alerts 1 || lc_fail "no alert at 50 %"
grep -q '"threshold_percent":50' "$LC_DIR/alerts" || lc_fail "not 50: $(cat "$LC_DIR/alerts")"
t=$(total)
lc_ctl 2 config set egress-allowance-other $((t / 2)) >/dev/null ||
	lc_fail "config set"
lc_until 25 alerts 2 || lc_fail "no alert at 100 %"
grep -q '"threshold_percent":100' "$LC_DIR/alerts" || lc_fail "not 100"
lc_ctl 2 -o json cost status | grep -q '"budget_state":"100"' ||
	lc_fail "state not 100"
audited() { lc_ctl 2 audit 50 | grep -q "cost/alert=.* 100: "; }
lc_until 5 audited || lc_fail "not audited"
# the hook sleeps at 100 %: killed after its 2 s, and logged
lc_until 10 grep -q "alert hook .* killed after its timeout" \
	"$LC_DIR"/n*/stderr || lc_fail "the hanging hook was not killed"
grep -h "cost: .* 100: " "$LC_DIR"/n*/stderr | grep -q warn ||
	lc_fail "no warning line"
sleep 12 # another check or two: no repeat
alerts 2 || lc_fail "an alert ran twice: $(cat "$LC_DIR/alerts")"

lc_log "the governor: the share is spent, public replies are dropped"
lc_ctl 2 config set governor-other on >/dev/null || lc_fail "config set"
limited() {
	lc_ctl 3 -o json serverstats | python3 -c '
import json, sys; sys.exit(json.load(sys.stdin)["egress_limit_bps"] != 1)'
}
lc_until 15 limited || lc_fail "n3 not limited: $(lc_ctl 3 serverstats)"
answered=$(python3 - "$(lc_nport 3)" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
n = 0
for _ in range(20):
    s.sendto(bytes([0x23]) + bytes(47), ("127.0.0.1", int(sys.argv[1])))
    try:
        s.recv(100)
        n += 1
    except socket.timeout:
        pass
print(n)
PY
)
[ "$answered" -le 1 ] || lc_fail "n3 answered $answered of 20 with its share spent"
lc_ctl 3 -o json serverstats | python3 -c '
import json, sys; d = json.load(sys.stdin)["dropped"]["governor"]
assert d >= 19, d' || lc_fail "drops not counted"
gov_is() {
	lc_ctl 1 -o json cost status | python3 -c '
import json, sys
v = {m["name"]: m["governor"] for m in json.load(sys.stdin)["members"]}
sys.exit(v.get("n3") != "limiting")'
}
lc_until 25 gov_is || lc_fail "cost status: $(lc_ctl 1 cost status)"
# "limiting" lasts while it drops (the last 10 s); on, it keeps its rate
lc_ctl 3 -o json tracking | python3 -c '
import json, sys; g = json.load(sys.stdin)["egress_governor"]
assert g["state"] in ("on", "limiting") and g["limit_bps"] == 1, g' ||
	lc_fail "tracking: $(lc_ctl 3 tracking)"
lc_ctl 2 config set governor-other off >/dev/null || lc_fail "config set"
lc_until 15 bash -c "'$NTPCTL' -s '$(lc_sock 3)' -o json serverstats |
	grep -q '\"egress_limit_bps\":0'" || lc_fail "still limited when off"
lc_log "cluster-cost: ok"
