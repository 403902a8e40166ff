#!/usr/bin/env bash
# Every benchmark (docs/benchmarks.md) against a fresh Release build:
# serving throughput and latency, memory, time accuracy, then the cluster
# benchmark.
# Not part of the test suite; takes about 30 minutes (accuracy alone ~20).
#   tests/bench/run-all.sh [--no-cluster]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
cluster=1
case "${1:-}" in
"") ;;
--no-cluster) cluster=0 ;;
*) echo "usage: tests/bench/run-all.sh [--no-cluster]" >&2; exit 2 ;;
esac

echo "== Release build"
CC=${CC:-gcc} cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
tests/fetch-peers.sh "$top/build/peers"

# One benchmark failing (or missing a target, for those whose exit says so)
# does not stop the others; the exit status tells.
rc=0
step() {
	echo "== $1"
	"$@" || { echo "== $1: exit $?"; rc=1; }
}
step tests/bench/serve-bench.sh
step tests/bench/rss-bench.sh
step tests/bench/metrics-bench.sh
[ -x tests/bench/accuracy.sh ] && step tests/bench/accuracy.sh
if [ "$cluster" = 1 ] && [ -x tests/bench/cluster-bench.sh ]; then
	step tests/bench/cluster-bench.sh
fi
exit $rc
