#!/usr/bin/env bash
# The cost guard's price on the serving path (docs/cost.md): ntpnode
# without egress counting (a build of the commit before it, -m), with it
# (this build), and with the egress governor's check on every reply (a
# test-only fixed rate far above the load, so that it checks and never
# drops), one serving thread each on CPU 1, ntpbench on CPU 0,
# interleaved closed-loop runs. Not a test: it prints medians and ratios.
#
#   tests/bench/cost-bench.sh -m BASE_NTPNODE [-b BUILD] [-n RUNS]
#                             [-d SECONDS] [-o OUTDIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build/release
base=
runs=5
secs=3
out=
usage() {
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
while getopts "m:b:n:d:o:h" opt; do
	case $opt in
	m) base=$OPTARG ;;
	b) build=$(cd "$OPTARG" && pwd) ;;
	n) runs=$OPTARG ;;
	d) secs=$OPTARG ;;
	o) out=$OPTARG ;;
	*) usage ;;
	esac
done
[ -x "$base" ] || usage
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage
[ "$(nproc)" -ge 2 ] || { echo "cost-bench: needs 2 CPUs" >&2; exit 1; }
PEERS=$top/build/peers/root
# shellcheck source=tests/peers-lib.sh
. "$top/tests/peers-lib.sh"
[ -x "$build/tools/ntpbench" ] || lib_fail "$build/tools/ntpbench missing"
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT
out=${out:-$top/build/bench/cost-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

servers="nocount count governed"
LIB_WRAP=(taskset -c 1)
declare -A port pid
start_ntpnode "$base" "$TMP/nocount" "serve-threads 1" "ratelimit off"
port[nocount]=$NTP_PORT pid[nocount]=$NTPNODE_PID
start_ntpnode "$build/node/ntpnode" "$TMP/count" "serve-threads 1" \
	"ratelimit off"
port[count]=$NTP_PORT pid[count]=$NTPNODE_PID
start_ntpnode "$build/node/ntpnode" "$TMP/governed" "serve-threads 1" \
	"ratelimit off" "test-mode yes" "test-egress-limit 2000000000"
port[governed]=$NTP_PORT pid[governed]=$NTPNODE_PID
LIB_WRAP=()

cpu_ns() {
	local f cpu=0 c _
	for f in /proc/"$1"/task/*/schedstat; do
		read -r c _ <"$f" || continue
		cpu=$((cpu + c))
	done
	echo "$cpu"
}

bench() {
	local name=$1 s=$2 c0 c1 w0 w1
	shift 2
	c0=$(cpu_ns "${pid[$s]}")
	w0=$(date +%s%N)
	taskset -c 0 "$build/tools/ntpbench" -p "${port[$s]}" -o json "$@" \
		>"$out/$name.json" || true
	w1=$(date +%s%N)
	c1=$(cpu_ns "${pid[$s]}")
	python3 - "$out/$name.json" "$((c1 - c0))" "$((w1 - w0))" <<-'PY'
	import json, sys
	r = json.load(open(sys.argv[1]))
	r["server_cpu_pct"] = 100.0 * int(sys.argv[2]) / int(sys.argv[3])
	json.dump(r, open(sys.argv[1], "w"))
	PY
}

for s in $servers; do bench "warmup-$s" "$s" -d 0.5; done
for i in $(seq "$runs"); do
	for s in $servers; do bench "closed-$i-$s" "$s" -d "$secs"; done
done
lib_stop_all

python3 - "$out" "$runs" "$servers" <<'PY'
import json, os, statistics, sys
out, runs, servers = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
r = {s: [json.load(open(os.path.join(out, "closed-%d-%s.json" % (i, s))))
         for i in range(1, runs + 1)] for s in servers}
for s in servers:
    print("%-9s valid replies/s: %s" % (s, " ".join(
        "%.0f" % x["valid_per_s"] for x in r[s])))
m = {s: statistics.median(x["valid_per_s"] for x in r[s]) for s in servers}
e = {s: statistics.median(x["valid_per_s"] / (x["server_cpu_pct"] / 100)
                          for x in r[s] if x["server_cpu_pct"] > 0)
     for s in servers}
print("median replies/s: " + "  ".join("%s %.0f" % (s, m[s]) for s in servers))
print("median replies per server CPU-second: " +
      "  ".join("%s %.0f" % (s, e[s]) for s in servers))
print("ratio count/nocount %.3f (per CPU-second %.3f); governed/count %.3f "
      "(per CPU-second %.3f)" % (m["count"] / m["nocount"],
                                 e["count"] / e["nocount"],
                                 m["governed"] / m["count"],
                                 e["governed"] / e["count"]))
PY
echo "cost-bench: results in $out"
