#!/usr/bin/env bash
# A real Prometheus (Debian's, unpacked by tests/fetch-prometheus.sh, never
# installed or run as a service) scrapes a 3-member loopback cluster once a
# second for about a minute, with infra/monitoring's alert rules loaded
# ("for:" shortened to seconds). Through its HTTP API the test checks the
# members, the leader, the voters, the request counts against what it sent
# each member, a clean `promtool check metrics` on every live scrape, the
# dashboard's expressions and metric names against the live data, bad HTTP
# input that disturbs neither NTP nor the scrapes, and an alert: n3's only
# upstream stops, n3 (holdover 5) goes unsynchronized, NtpmcStratumCritical
# fires for n3 alone and n3's /health answers 503.
#   prometheus.sh PROMETHEUS_BIN_DIR     env: NTPNODE NTPCTL NTPSIM NTPBENCH
set -euo pipefail
bin=${1:?usage: prometheus.sh PROMETHEUS_BIN_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${NTPSIM:?}" "${NTPBENCH:?}"
if [ ! -x "$bin/prometheus" ] || [ ! -x "$bin/promtool" ]; then
	echo "SKIP: no prometheus in $bin (tests/fetch-prometheus.sh)"
	exit 77
fi
command -v jq >/dev/null || { echo "SKIP: needs jq"; exit 77; }
# shellcheck source=tests/integration/lib-cluster.sh
. "$(dirname "$0")/lib-cluster.sh"

lc_setup
D=$LC_DIR
EXTRA_PIDS=()
cleanup() {
	local p
	for p in "${EXTRA_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	lc_cleanup
}
trap cleanup EXIT
fail() {
	[ -f "$D/prometheus.log" ] && tail -n 20 "$D/prometheus.log" >&2
	lc_fail "$@"
}

# GET URL: the body on stdout; exit 1 unless the status is 200 (or $2).
http_get() {
	python3 - "$1" "${2:-200}" <<-'PY'
	import sys, urllib.request, urllib.error
	url, want = sys.argv[1], int(sys.argv[2])
	try:
	    r = urllib.request.urlopen(url, timeout=10)
	    code, body = r.status, r.read()
	except urllib.error.HTTPError as e:
	    code, body = e.code, e.read()
	sys.stdout.buffer.write(body)
	sys.exit(0 if code == want else 1)
	PY
}

# ntpsim with one server per address suffix; prints "NET PID".
start_sim() {
	local name=$1 net out i
	shift
	for i in 1 2 3 4 5; do
		net="127.$((RANDOM % 240 + 5)).$((RANDOM % 250 + 2))"
		out=$D/sim-$name.out
		local specs=() s
		for s in "$@"; do specs+=(-s "$net.$s"); done
		"$NTPSIM" --seed "$i" "${specs[@]}" >"$out" 2>"$D/sim-$name.err" &
		local pid=$!
		for _ in $(seq 50); do
			grep -q '^ready' "$out" && { echo "$net $pid"; return 0; }
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	return 1
}
sim_port() { awk -v a="$2" '$1 == "server" && $2 == a { print $3 }' "$D/sim-$1.out"; }

read -r NA PA < <(start_sim a 11 12) || fail "ntpsim a did not start"
EXTRA_PIDS+=("$PA")
read -r NB PB < <(start_sim b 21) || fail "ntpsim b did not start"
EXTRA_PIDS+=("$PB")
up_line() { echo "upstream $2 port $(sim_port "$1" "$2") minpoll 0 maxpoll 0 iburst"; }

declare -A MPORT
for i in 1 2 3; do
	MPORT[$i]=$(lc_free_port) || fail "no free port"
	if [ "$i" = 3 ]; then
		ups=("$(up_line b "$NB.21")")
	else
		ups=("$(up_line a "$NA.11")" "$(up_line a "$NA.12")")
	fi
	lc_conf "$i" "metrics-listen 127.0.0.1 port ${MPORT[$i]}" "holdover 5" \
		"${ups[@]}"
	# these members have upstreams instead of the local clock
	sed -i '/^local stratum/d' "$(lc_memdir "$i")/ntpnode.conf"
done
lc_init 1
lc_join 2
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 30 || fail "3 voters not reached"
leader=$(lc_wait_leader 10) || fail "no leader"
lc_log "cluster up, leader n$leader"

# Prometheus on loopback: every member, 1 s scrapes and evaluations,
# the real rules with their "for:" shortened.
pport=$(lc_free_port) || fail "no free port"
mkdir -p "$D/rules"
sed 's/^\( *for:\) .*/\1 3s/' "$top/infra/monitoring/prometheus/rules/ntpmc.rules.yml" \
	>"$D/rules/ntpmc.rules.yml"
{
	echo "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}"
	echo "rule_files: [$D/rules/ntpmc.rules.yml]"
	echo "scrape_configs:"
	echo "  - job_name: ntpmc"
	echo "    static_configs:"
	for i in 1 2 3; do
		echo "      - targets: ['127.0.0.1:${MPORT[$i]}']"
		echo "        labels: {node: n$i}"
	done
} >"$D/prometheus.yml"
"$bin/promtool" check config "$D/prometheus.yml" >/dev/null ||
	fail "promtool rejects the test config"
"$bin/prometheus" --config.file="$D/prometheus.yml" \
	--storage.tsdb.path="$D/tsdb" --web.listen-address="127.0.0.1:$pport" \
	--log.level=warn >"$D/prometheus.log" 2>&1 &
EXTRA_PIDS+=("$!")
PROM=http://127.0.0.1:$pport
lc_until 30 http_get "$PROM/-/ready" >/dev/null || fail "prometheus not ready"
t_prom=$(date +%s)
lc_log "prometheus on $PROM"

# query EXPR: the instant vector as "LABELS VALUE" lines (labels: node=..).
query() {
	http_get "$PROM/api/v1/query?query=$(jq -rn --arg q "$1" '$q|@uri')" |
		jq -r '.data.result[] | "\(.metric.node // "-") \(.value[1])"'
}

# Every live scrape is clean for promtool, and answers as documented.
for i in 1 2 3; do
	http_get "http://127.0.0.1:${MPORT[$i]}/metrics" >"$D/scrape-$i.txt" ||
		fail "n$i: /metrics"
	"$bin/promtool" check metrics <"$D/scrape-$i.txt" ||
		fail "n$i: promtool check metrics"
	http_get "http://127.0.0.1:${MPORT[$i]}/health" >/dev/null ||
		fail "n$i: /health is not 200 while synchronized"
	http_get "http://127.0.0.1:${MPORT[$i]}/nope" 404 >/dev/null ||
		fail "n$i: unknown path is not 404"
done

# Bad input on n2's endpoint: a slowloris, garbage, an oversized head. NTP
# and the scrapes go on (checked below: n2's counts and "up").
python3 - "${MPORT[2]}" <<-'PY' || fail "bad HTTP input test"
import socket, sys, time
port = int(sys.argv[1])
def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=10)
slow = [conn() for _ in range(4)]
for s in slow:
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
g = conn(); g.sendall(b"\x16\x03\x01garbage\r\n\r\n")
assert g.recv(100).startswith(b"HTTP/1.1 400 "), "garbage"
b = conn()
try:
    b.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 10000 + b"\r\n\r\n")
except OSError:
    pass
assert b.recv(100).startswith(b"HTTP/1.1 431 "), "oversized"
t0 = time.time()
for s in slow:
    r = s.recv(100)
    assert r.startswith(b"HTTP/1.1 408 ") or r == b"", r
assert time.time() - t0 < 8, "slowloris held too long"
PY

# What the test sends, after the bad input: a known number of requests
# to each member, every one answered validly (ntpbench exits 0).
declare -A SENT=([1]=300 [2]=500 [3]=700)
for i in 1 2 3; do
	"$NTPBENCH" -p "$(lc_nport "$i")" -n "${SENT[$i]}" -s 1 -i 4 -o json \
		>"$D/bench-$i.json" || fail "ntpbench against n$i failed"
done

# About a minute of scraping.
while [ $(($(date +%s) - t_prom)) -lt 60 ]; do
	sleep 2
done
[ "$(query 'count(up{job="ntpmc"} == 1)' | awk '{print $2}')" = 3 ] ||
	fail "not all 3 members are up in Prometheus: $(query 'up')"
# scraped the whole minute: about 60 samples of up per member
n=$(query 'min(count_over_time(up{job="ntpmc"}[2m]))' | awk '{print $2}')
[ "${n:-0}" -ge 50 ] || fail "only $n scrapes of a member in the last 2 minutes"
[ "$(query 'sum(ntpmc_cluster_is_leader)' | awk '{print $2}')" = 1 ] ||
	fail "not exactly one leader: $(query ntpmc_cluster_is_leader)"
lnode=$(query 'ntpmc_cluster_is_leader == 1' | awk '{print $1}')
[ "$lnode" = "n$(lc_wait_leader 5)" ] ||
	fail "Prometheus says the leader is $lnode, the cluster n$(lc_wait_leader 5)"
[ "$(query 'ntpmc_cluster_members{role="voter"}')" = "$lnode 3" ] ||
	fail "voters: $(query ntpmc_cluster_members)"
for i in 1 2 3; do
	got=$(query "ntpmc_serverstats_ntp_packets_received_total{node=\"n$i\"}" |
		awk '{print $2}')
	[ "$got" = "${SENT[$i]}" ] ||
		fail "n$i: Prometheus counts $got requests, the test sent ${SENT[$i]}"
done
[ "$(query 'count(ntpmc_tracking_stratum == 2)' | awk '{print $2}')" = 3 ] ||
	fail "members not at stratum 2: $(query ntpmc_tracking_stratum)"
[ -z "$(query 'ALERTS{alertname="NtpmcStratumCritical"}')" ] ||
	fail "stratum alert while every member is synchronized"
python3 "$top/tests/integration/check-dashboard.py" "$top/infra/monitoring" \
	"$bin/promtool" --prometheus "$PROM" || fail "dashboard against live data"

# n3's only upstream stops: after 5 s of holdover n3 is unsynchronized.
lc_log "stopping n3's upstream"
kill "$PB"
wait "$PB" 2>/dev/null || true
firing() {
	[ "$(query 'ALERTS{alertname="NtpmcStratumCritical",alertstate="firing"}' |
		awk '{print $1}' | tr '\n' ' ')" = "n3 " ]
}
lc_until 90 firing || fail "NtpmcStratumCritical not firing for n3 alone: $(query ALERTS)"
lc_log "NtpmcStratumCritical fires for n3"
[ "$(query 'ntpmc_tracking_leap_status{node="n3"}' | awk '{print $2}')" = 3 ] ||
	fail "n3 leap status"
http_get "http://127.0.0.1:${MPORT[3]}/health" 503 >/dev/null ||
	fail "n3: /health is not 503 while its replies carry LI 3"
http_get "http://127.0.0.1:${MPORT[1]}/health" >/dev/null ||
	fail "n1: /health is not 200"

# The history behind pool-check has samples, and names what it found.
lc_ctl 1 -o json pool-check --hours 1 >"$D/pool-check.json" || fail "pool-check"
jq -e '.samples >= 1 and (.checks[] | select(.name == "upstreams") |
	.status == "pass")' "$D/pool-check.json" >/dev/null ||
	fail "pool-check: $(cat "$D/pool-check.json")"
echo "PASS: Prometheus scraped 3 members for a minute; leader $lnode;" \
	"requests ${SENT[*]} counted; alert fired for n3"
