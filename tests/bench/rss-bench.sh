#!/usr/bin/env bash
# Memory benchmark (docs/benchmarks.md): VmRSS of the Release ntpnode after
# IDLE seconds without traffic, then its peak (VmHWM) while CLIENTS distinct
# source addresses in 127.0.0.0/8 each send two requests (ntpbench
# --clients), next to the configured rate-limit table it should be bounded by.
# Targets: idle VmRSS <= 8 MB; VmHWM - idle <= table + 2 MB.
#
#   tests/bench/rss-bench.sh [-b BUILD] [-i IDLE_S] [-c CLIENTS] [-e ENTRIES]
# BUILD defaults to build/release; IDLE_S to 60; CLIENTS to 1000000;
# ENTRIES (the rate-limit table's size) to ntpnode's default.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build/release
idle=60
clients=1000000
entries=
usage() {
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
while getopts "b:i:c:e:h" opt; do
	case $opt in
	b) build=$(cd "$OPTARG" && pwd) ;;
	i) idle=$OPTARG ;;
	c) clients=$OPTARG ;;
	e) entries=$OPTARG ;;
	*) usage ;;
	esac
done
[[ "$idle" =~ ^[0-9]+$ && "$clients" =~ ^[1-9][0-9]*$ ]] || usage
[[ -z "$entries" || "$entries" =~ ^[1-9][0-9]*$ ]] || usage

# shellcheck source=tests/peers-lib.sh
. "$top/tests/peers-lib.sh"
for f in node/ntpnode tools/ntpbench tools/ntpctl; do
	[ -x "$build/$f" ] || lib_fail "$build/$f missing: build first"
done
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT

conf=()
[ -n "$entries" ] && conf+=("ratelimit entries $entries")
start_ntpnode "$build/node/ntpnode" "$TMP/node" "${conf[@]}"
pid=$NTPNODE_PID

# status_kb FIELD: a VmXXX line of /proc/PID/status, in kB.
status_kb() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"
}

ctl_stats() {
	"$build/tools/ntpctl" -s "$TMP/node/ctl.sock" -o json serverstats \
		2>/dev/null || echo '{}'
}

echo "ntpnode pid $pid port $NTP_PORT: idle for $idle s"
sleep "$idle"
rss_idle=$(status_kb VmRSS)
hwm_idle=$(status_kb VmHWM)
echo "idle: VmRSS $rss_idle kB, VmHWM $hwm_idle kB"

echo "traffic: $clients client addresses x 2 requests"
taskset -c 0 "$build/tools/ntpbench" -p "$NTP_PORT" --clients "$clients" \
	-n $((clients * 2)) -o json >"$TMP/bench.json" || true
hwm=$(status_kb VmHWM)
rss=$(status_kb VmRSS)
ctl_stats >"$TMP/stats.json"

python3 - "$TMP/bench.json" "$TMP/stats.json" "$rss_idle" "$hwm" "$rss" \
	"${entries:-default}" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1]))
try:
    stats = json.load(open(sys.argv[2]))
except ValueError:
    stats = {}
rss_idle, hwm, rss = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
entries = sys.argv[6]
print("ntpbench: sent %d, valid %d, kod %d, invalid %d, lost %.2f %%, %.0f valid/s"
      % (bench["sent"], bench["valid"], bench["kod"], bench["invalid"],
         bench["loss_pct"], bench["valid_per_s"]))
print("after: VmHWM %d kB, VmRSS %d kB" % (hwm, rss))
delta = hwm - rss_idle
print("VmHWM - idle VmRSS: %d kB" % delta)

# The table's size as the daemon reports it, if it does.
def find(o, words):
    if isinstance(o, dict):
        for k, v in o.items():
            if all(w in k for w in words) and isinstance(v, (int, float)):
                return v
            r = find(v, words)
            if r is not None:
                return r
    return None
table_bytes = find(stats, ["table", "bytes"])
n = find(stats, ["entries"])
source = "as ntpctl serverstats reports it"
if n is None:
    # conf.h's default; rl.c rounds the entries up to a power of two.
    n = 65536 if entries == "default" else int(entries)
    p = 1
    while p < n:
        p *= 2
    n = p
if table_bytes is None:
    # Not reported: node/serve/rl.c's entry is 32 bytes (a _Static_assert there).
    table_bytes = n * 32
    source = "entries x 32 B, node/serve/rl.c's entry size"
print("rate-limit table: %d entries, %d kB (%s)" % (n, table_bytes // 1024, source))
print("\ntargets:")
print("  idle VmRSS <= 8 MB (8192 kB): %d kB  %s" %
      (rss_idle, "met" if rss_idle <= 8192 else "MISSED"))
limit = table_bytes / 1024 + 2048
print("  VmHWM - idle <= table + 2 MB (%d kB): %d kB  %s" %
      (limit, delta, "met" if delta <= limit else "MISSED"))
PY
