#!/usr/bin/env bash
# cost status prices the rotation's hours (docs/cost.md, "Hours"): one
# member whose scheduler runs 600x (an hour of the hours ledger every
# 6 s), a price per instance hour and per address hour, a static
# address: the table's VM and IPv4 columns are the hours ledger's hours
# times the prices, and projected_cost_usd (JSON) is their sum.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

now_s=$(date +%s)
# the scheduler's hours must stay in this UTC month for the test's minute
# (600x: 10 h of it)
python3 - "$now_s" <<'PY' || { echo "too close to the month's end"; exit 77; }
import datetime, sys
t = datetime.datetime.fromtimestamp(int(sys.argv[1]), datetime.timezone.utc)
sys.exit(0 if (t + datetime.timedelta(hours=20)).month == t.month else 1)
PY
lc_conf 1 "test-mode yes" "rotation-test-clock $now_s $now_s 600"
lc_init 1
lc_wait_leader 10 1 >/dev/null || lc_fail "n1 did not lead"
for kv in "ledger-interval 5s" "price-instance-hour-other 1" \
	"price-ipv4-hour-other 0.5" "ipv4-static-other on"; do
	# shellcheck disable=SC2086
	lc_ctl 1 config set $kv >/dev/null || lc_fail "config set $kv"
done
# refused: negative, not a number, absurd
for v in -1 NaN 1001; do
	if lc_ctl 1 config set price-instance-hour-other "$v" >/dev/null 2>&1; then
		lc_fail "price $v accepted"
	fi
done

# hours: VM HOURS of the provider row once the ledger has counted 2 h
hours() {
	lc_ctl 1 cost status | awk '$1 == "PROVIDER" && $2 == "VM" { getline;
		exit !($2 >= 2) }'
}
lc_until 60 hours || lc_fail "no hours counted: $(lc_ctl 1 cost status)"
lc_ctl 1 cost status >"$LC_DIR/table"
lc_ctl 1 -o json cost status >"$LC_DIR/json"
cat "$LC_DIR/table" >&2
python3 - "$LC_DIR/table" "$LC_DIR/json" <<'PY' || lc_fail "prices do not add up"
import json, sys
rows = open(sys.argv[1]).read().split("\n")
i = next(k for k, r in enumerate(rows) if r.split()[:2] == ["PROVIDER", "VM"])
f = rows[i + 1].split()
assert f[0] == "other", f
vm, vm_proj, vm_free, vm_usd = map(float, f[1:5])
ip, ip_proj, ip_free, ip_usd = map(float, f[5:9])
assert vm >= 2 and vm_proj >= vm and vm_free == 0, f
# static: the address costs the rest of the month, at least the VM's hours
assert ip >= vm and ip_proj >= vm_proj and ip_proj > 24, f
assert abs(vm_usd - vm_proj * 1) <= 0.06, f
assert abs(ip_usd - ip_proj * 0.5) <= 0.06, f
v = json.load(open(sys.argv[2]))
assert set(v) == {"month", "budget_usd", "projected_cost_usd", "budget_state",
                  "providers", "members"}, v.keys()
p = v["providers"][0]
assert set(p) == {"name", "bytes", "projected_bytes", "allowance_bytes",
                  "projected_cost_usd"}, p.keys()
# egress is free for other (price 0)
assert abs(p["projected_cost_usd"] - (vm_usd + ip_usd)) <= 0.02, (p, f)
assert abs(v["projected_cost_usd"] - p["projected_cost_usd"]) < 1e-6, v
print("vm %.1f h (projected %.1f), ipv4 %.1f h (projected %.1f): %.2f USD"
      % (vm, vm_proj, ip, ip_proj, p["projected_cost_usd"]))
PY
# a budget below the cost: state 100
lc_ctl 1 config set budget-usd 1 >/dev/null || lc_fail "config set budget"
over() { lc_ctl 1 -o json cost status | grep -q '"budget_state":"100"'; }
lc_until 15 over || lc_fail "budget state: $(lc_ctl 1 -o json cost status)"
lc_log "ok"
