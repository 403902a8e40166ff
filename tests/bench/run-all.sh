#!/usr/bin/env bash
# Every benchmark (docs/benchmarks.md) against a fresh Release build:
# serving throughput and latency, memory, then the cluster benchmark.
# Not part of the test suite; takes several minutes on an idle machine.
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

echo "== serve-bench"
tests/bench/serve-bench.sh
echo "== rss-bench"
tests/bench/rss-bench.sh
if [ "$cluster" = 1 ] && [ -x tests/bench/cluster-bench.sh ]; then
	echo "== cluster-bench"
	tests/bench/cluster-bench.sh
fi
