#!/usr/bin/env bash
# Serving benchmark (docs/benchmarks.md): ntpnode (one serving thread),
# chronyd and the trivial echo responder side by side on loopback, each
# server pinned to CPU 1 and ntpbench to CPU 0; interleaved closed-loop runs,
# then paced runs at 20k req/s for the server-side T3-T2 comparison.
# Not a test: it prints figures and the serving targets next to them.
#
#   tests/bench/serve-bench.sh [-b BUILD] [-n RUNS] [-d SECONDS]
#                              [-s "ntpnode chronyd echo"] [-o OUTDIR]
#                              [-N NICE]
# BUILD defaults to build/release (run tools/run-local.sh or cmake first).
# -N runs servers and ntpbench at that nice level (e.g. -10 on a shared
# machine, so that other jobs disturb the runs less; all servers alike).
# With the kernel's autogroup scheduling a nice level only counts within a
# session, so -N also moves the benchmark into a session of its own and sets
# that session's autogroup nice level.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build/release
runs=3
secs=3
servers="ntpnode chronyd echo"
out=
nice_lvl=0
usage() {
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
while getopts "b:n:d:s:o:N:h" opt; do
	case $opt in
	b) build=$(cd "$OPTARG" && pwd) ;;
	n) runs=$OPTARG ;;
	d) secs=$OPTARG ;;
	s) servers=$OPTARG ;;
	o) out=$OPTARG ;;
	N) nice_lvl=$OPTARG ;;
	*) usage ;;
	esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ && "$nice_lvl" =~ ^-?[0-9]+$ ]] || usage
[ "$(nproc)" -ge 2 ] || { echo "serve-bench: needs 2 CPUs" >&2; exit 1; }
if [ "$nice_lvl" != 0 ] && [ -e /proc/self/autogroup ]; then
	if [ -z "${SERVE_BENCH_SESSION:-}" ]; then
		SERVE_BENCH_SESSION=1 exec setsid -w "$0" "$@"
	fi
	echo "$nice_lvl" >/proc/self/autogroup ||
		echo "serve-bench: cannot set the autogroup nice level" >&2
fi

PEERS=$top/build/peers/root
# shellcheck source=tests/peers-lib.sh
. "$top/tests/peers-lib.sh"
for f in ntpbench echoresp; do
	[ -x "$build/tools/$f" ] || lib_fail "$build/tools/$f missing: build first"
done
case " $servers " in
*" chronyd "*) [ -x "$PEERS/usr/sbin/chronyd" ] ||
	"$top/tests/fetch-peers.sh" "$top/build/peers" ;;
esac
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT
out=${out:-$top/build/bench/serve-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

# Every server runs alone on CPU 1; the load generator gets CPU 0.
LIB_WRAP=(nice -n "$nice_lvl" taskset -c 1)
declare -A port pid
for s in $servers; do
	case $s in
	ntpnode)
		start_ntpnode "$build/node/ntpnode" "$TMP/ntpnode" \
			"serve-threads 1" "ratelimit off"
		port[$s]=$NTP_PORT pid[$s]=$NTPNODE_PID ;;
	chronyd)
		start_chronyd_server "$TMP/chronyd"
		port[$s]=$NTP_PORT pid[$s]=$CHRONYD_PID ;;
	echo)
		start_echoresp "$build/tools/echoresp" "$TMP"
		port[$s]=$NTP_PORT pid[$s]=$ECHO_PID ;;
	*) lib_fail "unknown server $s" ;;
	esac
	echo "$s: pid ${pid[$s]} port ${port[$s]}"
done
LIB_WRAP=()

# sched_ns PID: "CPU_NS WAIT_NS" summed over the process's threads, from
# /proc/PID/task/*/schedstat (time on a CPU, time runnable on a run queue).
# CPU + wait near 100 % of the wall time means the process never idled.
sched_ns() {
	local f cpu=0 wait=0 c w _
	for f in /proc/"$1"/task/*/schedstat; do
		read -r c w _ <"$f" || continue
		cpu=$((cpu + c)) wait=$((wait + w))
	done
	echo "$cpu $wait"
}

# bench NAME SERVER ARGS...: one ntpbench run on CPU 0 while sampling the
# server's scheduler times; writes $out/NAME.json with server_cpu_pct and
# server_runq_wait_pct added.
bench() {
	local name=$1 s=$2 t0 t1 w0 w1
	shift 2
	t0=$(sched_ns "${pid[$s]}")
	w0=$(date +%s%N)
	nice -n "$nice_lvl" taskset -c 0 "$build/tools/ntpbench" -p "${port[$s]}" -o json "$@" \
		>"$out/$name.json" || true
	w1=$(date +%s%N)
	t1=$(sched_ns "${pid[$s]}")
	python3 - "$out/$name.json" "$t0" "$t1" "$((w1 - w0))" <<-'PY'
	import json, sys
	path, (c0, q0), (c1, q1), wall = (sys.argv[1], map(int, sys.argv[2].split()),
	                                  map(int, sys.argv[3].split()), int(sys.argv[4]))
	r = json.load(open(path))
	r["server_cpu_pct"] = round(100.0 * (c1 - c0) / wall, 1)
	r["server_runq_wait_pct"] = round(100.0 * (q1 - q0) / wall, 1)
	json.dump(r, open(path, "w"))
	PY
}

# Warm-up: caches, client tables, page faults.
for s in $servers; do
	bench "warmup-$s" "$s" -d 0.5
done
for i in $(seq "$runs"); do
	for s in $servers; do
		bench "closed-$i-$s" "$s" -d "$secs"
	done
done
for i in $(seq "$runs"); do
	for s in $servers; do
		[ "$s" = chronyd ] && continue
		bench "paced-$i-$s" "$s" -d "$secs" -r 20000
	done
done
if [ -n "${pid[ntpnode]:-}" ] && [ -x "$build/tools/ntpctl" ]; then
	"$build/tools/ntpctl" -s "$TMP/ntpnode/ctl.sock" -o json serverstats \
		>"$out/ntpnode-serverstats.json" 2>/dev/null || true
fi
lib_stop_all

python3 - "$out" "$runs" "$servers" <<'PY'
import json, os, statistics, sys
out, runs, servers = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()

def load(name):
    return json.load(open(os.path.join(out, name + ".json")))

def med(xs):
    return statistics.median(xs) if xs else float("nan")

closed = {s: [load("closed-%d-%s" % (i, s)) for i in range(1, runs + 1)] for s in servers}
paced = {s: [load("paced-%d-%s" % (i, s)) for i in range(1, runs + 1)]
         for s in servers if s != "chronyd"}

print("\nclosed loop: 4 sockets x 32 in flight, valid replies/s (invalid, "
      "loss %, server CPU+wait %, ntpbench CPU+wait %)")
for i in range(runs):
    cells = []
    for s in servers:
        r = closed[s][i]
        cells.append("%s %7.0f (%d, %.2f%%, %.0f+%.0f%%, %.0f+%.0f%%)" % (
            s, r["valid_per_s"], r["invalid"], r["loss_pct"],
            r["server_cpu_pct"], r["server_runq_wait_pct"],
            r["cpu_pct"], r["runq_wait_pct"]))
    print("  run %d: %s" % (i + 1, "  ".join(cells)))
m = {s: med([r["valid_per_s"] for r in closed[s]]) for s in servers}
inv = {s: sum(r["invalid"] for r in closed[s] + paced.get(s, [])) for s in servers}
print("  median: " + "  ".join("%s %.0f/s" % (s, m[s]) for s in servers))
print("  invalid replies (all runs): " + "  ".join("%s %d" % (s, inv[s]) for s in servers))
lg = {s: med([r["cpu_pct"] for r in closed[s]]) for s in servers}
lgq = {s: med([r["cpu_pct"] + r["runq_wait_pct"] for r in closed[s]]) for s in servers}
sc = {s: med([r["server_cpu_pct"] for r in closed[s]]) for s in servers}
scq = {s: med([r["server_cpu_pct"] + r["server_runq_wait_pct"] for r in closed[s]])
       for s in servers}
print("  median CPU % (CPU+wait): " + "  ".join(
    "%s server %.0f (%.0f) / ntpbench %.0f (%.0f)" % (s, sc[s], scq[s], lg[s], lgq[s])
    for s in servers))

# Replies per CPU-second of the server: on a shared machine a server rarely
# gets its whole core, and this figure is much steadier than replies/s.
eff = {s: med([r["valid_per_s"] / (r["server_cpu_pct"] / 100.0)
               for r in closed[s] if r["server_cpu_pct"] > 0]) for s in servers}
print("  median replies per server CPU-second: " +
      "  ".join("%s %.0f" % (s, eff[s]) for s in servers))
if "chronyd" in servers and "echo" in servers:
    print("  ceiling: echo/chronyd %.2f in replies/s, %.2f per CPU-second "
          "(what any server doing NTP work can reach)" % (
              m["echo"] / m["chronyd"], eff["echo"] / eff["chronyd"]))

verdict = []
if "ntpnode" in servers:
    if "chronyd" in servers:
        ratio = m["ntpnode"] / m["chronyd"]
        print("  ratio ntpnode/chronyd: %.2f  (target >= 1.8); per CPU-second "
              "%.2f" % (ratio, eff["ntpnode"] / eff["chronyd"]))
        verdict.append(("ntpnode/chronyd >= 1.8", ratio >= 1.8))
    if "echo" in servers:
        ratio = m["ntpnode"] / m["echo"]
        print("  ratio ntpnode/echo: %.2f  (target >= 0.95 when ntpbench is the "
              "bottleneck: it used %.0f %% of its core, %.0f %% with run-queue "
              "wait); per CPU-second %.2f" % (
                  ratio, lg["ntpnode"], lgq["ntpnode"], eff["ntpnode"] / eff["echo"]))
        verdict.append(("ntpnode/echo >= 0.95 with ntpbench >= 85% CPU",
                        ratio >= 0.95 and lg["ntpnode"] >= 85))
        verdict.append(("  same, ntpbench CPU+wait >= 85% (shared machine)",
                        ratio >= 0.95 and lgq["ntpnode"] >= 85))
    verdict.append(("0 invalid from ntpnode", inv["ntpnode"] == 0))

if paced:
    print("\npaced at 20000 req/s: server T3-T2 p50 / p99 us (valid/s, loss %)")
    for i in range(runs):
        cells = []
        for s in paced:
            r = paced[s][i]
            cells.append("%s %.2f / %.2f (%.0f, %.2f%%)" % (
                s, r["server_us"]["p50"], r["server_us"]["p99"],
                r["valid_per_s"], r["loss_pct"]))
        print("  run %d: %s" % (i + 1, "  ".join(cells)))
    p50 = {s: med([r["server_us"]["p50"] for r in paced[s]]) for s in paced}
    print("  median p50: " + "  ".join("%s %.2f us" % (s, p50[s]) for s in paced))
    if "ntpnode" in paced and "echo" in paced:
        d = p50["ntpnode"] - p50["echo"]
        print("  ntpnode - echo: %+.2f us  (target <= +5 us)" % d)
        verdict.append(("T3-T2 p50 <= echo + 5 us at 20k/s", d <= 5))

stats = os.path.join(out, "ntpnode-serverstats.json")
if os.path.exists(stats) and os.path.getsize(stats):
    try:
        st = json.load(open(stats))
    except ValueError:
        st = {}
    found = []
    def walk(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                walk(v, path + [k])
        elif "p99" in "_".join(path) or "p50" in "_".join(path):
            found.append(("/".join(path), o))
    walk(st, [])
    if found:
        print("\nin-process reply time (ntpctl serverstats): " +
              "  ".join("%s %s" % f for f in found) + "  (target p99 <= 10 us)")
    else:
        print("\nin-process reply time: not exposed by ntpctl serverstats")

if verdict:
    print("\ntargets:")
    for what, ok in verdict:
        print("  %-50s %s" % (what, "met" if ok else "MISSED"))
print("\nraw JSON: " + out)
PY
