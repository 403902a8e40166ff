#!/usr/bin/env bash
# infra/monitoring without a fleet: the scrape config and the alert rules
# load (promtool check config/rules), every alert's unit tests pass
# (promtool test rules), and the Grafana dashboard and its provisioning
# files hold together (check-dashboard.py: every expression parses).
#   monitoring-static.sh PROMETHEUS_BIN_DIR     (exit 77 without promtool)
set -euo pipefail
bin=${1:?usage: monitoring-static.sh PROMETHEUS_BIN_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
mon=$top/infra/monitoring
promtool=$bin/promtool
if [ ! -x "$promtool" ]; then
	echo "SKIP: no promtool in $bin (tests/fetch-prometheus.sh)"
	exit 77
fi
"$promtool" check config "$mon/prometheus/prometheus.yml"
"$promtool" check rules "$mon/prometheus/rules/ntpmc.rules.yml"
"$promtool" test rules "$mon/prometheus/rules/ntpmc.rules.test.yml"
python3 "$top/tests/integration/check-dashboard.py" "$mon" "$promtool"
# every alert has a test and a runbook section that exists
alerts=$(sed -n 's/^ *- alert: //p' "$mon/prometheus/rules/ntpmc.rules.yml")
for a in $alerts; do
	grep -q "alertname: $a\$" "$mon/prometheus/rules/ntpmc.rules.test.yml" ||
		{ echo "FAIL: alert $a has no unit test"; exit 1; }
done
sed -n 's/^ *runbook_url: docs\/monitoring.md#//p' \
	"$mon/prometheus/rules/ntpmc.rules.yml" | sort -u | while read -r anchor; do
	# GitHub's anchors: the heading, lower case, blanks as dashes
	grep -i '^#\{2,4\} ' "$top/docs/monitoring.md" |
		sed 's/^#* //; s/[^A-Za-z0-9 -]//g; s/ /-/g' | tr 'A-Z' 'a-z' |
		grep -qx "$anchor" ||
		{ echo "FAIL: runbook docs/monitoring.md#$anchor missing"; exit 1; }
done
echo "PASS: config, $(echo "$alerts" | wc -w) alerts with tests, dashboard"
