#!/usr/bin/env bash
# Metrics endpoint benchmark (docs/monitoring.md, "Measurements"). Two
# figures, each against its target:
#  1. serving throughput with and without a 1 s scrape of /metrics, in the
#     same run: ntpnode (one serving thread, ratelimit off, 10 upstreams on
#     ntpsim, the whole process on CPU 1) under closed-loop ntpbench on
#     CPU 0, runs alternating scrape off / on (target: within noise);
#  2. /metrics latency on the leader of a 5-member loopback cluster whose
#     leader has 10 upstream sources: GETs one after the other, connect
#     to last byte (target: under 5 ms).
# Not a test: it prints figures.
#   tests/bench/metrics-bench.sh [-b BUILD] [-n RUNS] [-d SECONDS] [-g GETS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build/release
runs=5
secs=3
gets=500
while getopts "b:n:d:g:h" opt; do
	case $opt in
	b) build=$(cd "$OPTARG" && pwd) ;;
	n) runs=$OPTARG ;;
	d) secs=$OPTARG ;;
	g) gets=$OPTARG ;;
	*) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
[ "$(nproc)" -ge 2 ] || { echo "metrics-bench: needs 2 CPUs" >&2; exit 1; }
export NTPNODE=$build/node/ntpnode NTPCTL=$build/tools/ntpctl
for f in "$NTPNODE" "$NTPCTL" "$build/tools/ntpbench" "$build/tools/ntpsim"; do
	[ -x "$f" ] || { echo "metrics-bench: $f missing: build first" >&2; exit 1; }
done
# shellcheck source=tests/integration/lib-cluster.sh
. "$top/tests/integration/lib-cluster.sh"
lc_setup
D=$LC_DIR
SIM_PID=
SCRAPER=
cleanup() {
	[ -n "$SCRAPER" ] && kill "$SCRAPER" 2>/dev/null
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
	wait 2>/dev/null || true
	lc_cleanup
}
trap cleanup EXIT

# Ten simulated upstreams on one loopback net (ntpsim, docs/ntpsim.md).
net="127.$((RANDOM % 240 + 5)).$((RANDOM % 250 + 2))"
specs=()
for i in $(seq 11 20); do specs+=(-s "$net.$i,delay=1ms,jitter=100us"); done
taskset -c 0 "$build/tools/ntpsim" --seed 7 "${specs[@]}" >"$D/sim.out" 2>"$D/sim.err" &
SIM_PID=$!
for _ in $(seq 50); do grep -q '^ready' "$D/sim.out" && break; sleep 0.1; done
grep -q '^ready' "$D/sim.out" || { echo "ntpsim did not start" >&2; exit 1; }
ups=()
while read -r _ a p; do
	ups+=("upstream $a port $p minpoll 4 maxpoll 4 iburst")
done < <(awk '$1 == "server"' "$D/sim.out")

# GET URL N: N sequential GETs; prints "p50 p99 max bytes" in ms.
gets() {
	python3 - "$1" "$2" <<-'PY'
	import socket, sys, time
	host, port = sys.argv[1].split(":")
	n = int(sys.argv[2])
	req = ("GET /metrics HTTP/1.1\r\nHost: %s\r\n\r\n" % sys.argv[1]).encode()
	t = []
	size = 0
	for _ in range(n):
	    t0 = time.perf_counter()
	    s = socket.create_connection((host, int(port)))
	    s.sendall(req)
	    data = b""
	    while True:
	        b = s.recv(65536)
	        if not b:
	            break
	        data += b
	    s.close()
	    t.append((time.perf_counter() - t0) * 1e3)
	    assert data.startswith(b"HTTP/1.1 200 "), data[:40]
	    size = len(data)
	t.sort()
	print("%.3f %.3f %.3f %d" % (t[len(t) // 2], t[int(len(t) * 0.99) - 1], t[-1], size))
	PY
}

# ---- 1. throughput with and without a 1 s scrape
mport=$(lc_free_port)
nport=$(lc_free_port)
mkdir -p "$D/solo/data"
{
	echo "datadir $D/solo/data"
	echo "control $D/solo/ctl.sock"
	echo "listen 127.0.0.1 port $nport"
	echo "serve-threads 1"
	echo "ratelimit off"
	echo "discipline virtual"
	echo "metrics-listen 127.0.0.1 port $mport"
	printf '%s\n' "${ups[@]}"
} >"$D/solo/ntpnode.conf"
"${LC_SETPRIV[@]}" taskset -c 1 "$NTPNODE" run -c "$D/solo/ntpnode.conf" \
	2>"$D/solo/stderr" &
solo=$!
LC_PID[solo]=$solo
sleep 3
scrape_loop() {
	while :; do
		python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1]).read()" \
			"http://127.0.0.1:$mport/metrics" >/dev/null 2>&1
		sleep 1
	done
}
bench() {
	taskset -c 0 "$build/tools/ntpbench" -p "$nport" -d "$secs" -o json |
		python3 -c "import json,sys; print(json.load(sys.stdin)['valid_per_s'])"
}
bench >/dev/null    # warm-up
off=() on=()
for i in $(seq "$runs"); do
	off+=("$(bench)")
	taskset -c 0 bash -c "$(declare -f scrape_loop); mport=$mport; scrape_loop" &
	SCRAPER=$!
	sleep 0.5
	on+=("$(bench)")
	kill "$SCRAPER"
	wait "$SCRAPER" 2>/dev/null || true
	SCRAPER=
	echo "run $i: without scrape ${off[-1]}/s, with a 1 s scrape ${on[-1]}/s"
done
scrapes=$(python3 -c "
import urllib.request,sys
t=urllib.request.urlopen(sys.argv[1]).read().decode()
print([l for l in t.splitlines() if l.startswith('ntpmc_metrics_http_responses_total{code=\"200\"}')][0].split()[1])
" "http://127.0.0.1:$mport/metrics")
python3 - "${off[*]}" "${on[*]}" "$scrapes" <<-'PY'
import statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
m0, m1 = statistics.median(off), statistics.median(on)
print("throughput, replies/s (median of %d runs): without %.0f, with a 1 s "
      "scrape %.0f: %+.1f %%" % (len(off), m0, m1, 100 * (m1 - m0) / m0))
print("  run-to-run spread without the scrape: %.0f .. %.0f (%.1f %%); "
      "with: %.0f .. %.0f (%.1f %%); %s scrapes answered" % (
    min(off), max(off), 100 * (max(off) - min(off)) / m0,
    min(on), max(on), 100 * (max(on) - min(on)) / m1, sys.argv[3]))
PY
# What one scrape costs the daemon: CPU time of its loop thread (the
# process's main thread) over back-to-back scrapes, no NTP load.
cpu_ns() { read -r c _ <"/proc/$solo/task/$solo/schedstat"; echo "$c"; }
c0=$(cpu_ns)
read -r p50 p99 max bytes < <(gets "127.0.0.1:$mport" "$gets")
c1=$(cpu_ns)
echo "one scrape costs the loop thread $(( (c1 - c0) / gets / 1000 )) us of CPU" \
	"(mean of $gets; $bytes bytes; latency p50 $p50 ms p99 $p99 ms):" \
	"at one a second $(python3 -c "print('%.3f' % (($c1 - $c0) / $gets / 1e9 * 100))") % of a core"
lc_stop solo

# ---- 2. /metrics latency: 5 members, the leader with 10 sources
declare -A MP
for i in 1 2 3 4 5; do
	MP[$i]=$(lc_free_port)
	if [ "$i" = 1 ]; then
		lc_conf "$i" "metrics-listen 127.0.0.1 port ${MP[$i]}" "${ups[@]}"
		sed -i '/^local stratum/d' "$(lc_memdir 1)/ntpnode.conf"
	else
		lc_conf "$i" "metrics-listen 127.0.0.1 port ${MP[$i]}"
	fi
done
lc_init 1
lc_join 2
for i in 3 4 5; do lc_join "$i" "$(lc_ctl 1 token create)"; done
lc_until 30 lc_voters_are 3 || true
sleep 5
leader=$(lc_wait_leader 10) || { echo "no leader" >&2; exit 1; }
python3 -c "
import urllib.request,sys
t=urllib.request.urlopen(sys.argv[1]).read().decode()
n=sum(1 for l in t.splitlines() if l.startswith('ntpmc_sources_state_info'))
m=[l for l in t.splitlines() if l.startswith('ntpmc_cluster_members')]
print('leader n%s: %d sources, %s' % (sys.argv[2], n, ' '.join(m)))
" "http://127.0.0.1:${MP[$leader]}/metrics" "$leader"
read -r p50 p99 max bytes < <(gets "127.0.0.1:${MP[$leader]}" "$gets")
echo "/metrics latency on the leader, $gets GETs: p50 $p50 ms, p99 $p99 ms," \
	"max $max ms ($bytes bytes; target under 5 ms)"
