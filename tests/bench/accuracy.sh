#!/usr/bin/env bash
# Accuracy benchmark (not a ctest): ntpnode vs chronyd -x against the same
# simulated upstreams (tools/ntpsim), 7 scenarios x 3 seeds, about 26 min.
# See docs/benchmarks.md, "Accuracy".
#   tests/bench/accuracy.sh              full run
#   tests/bench/accuracy.sh --quick      1 seed, shorter runs (about 3 min)
#   tests/bench/accuracy.sh --scenarios byzantine --seeds 4,5 --keep
# Needs a Release build in build/release and chronyd unpacked by
# tests/fetch-peers.sh in build/peers (both done here if missing).
# Exit status 0 only if every ntpnode target is met.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
build=${NTPMC_BUILD:-$top/build/release}
if [ ! -x "$build/tools/ntpsim" ] || [ ! -x "$build/node/ntpnode" ]; then
	CC=gcc cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$build" -j2 >/dev/null
fi
tests/fetch-peers.sh "$top/build/peers" >/dev/null
exec python3 tests/bench/accuracy.py --build "$build" \
	--chronyd "$top/build/peers/root/usr/sbin/chronyd" "$@"
