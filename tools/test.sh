#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine (run as root):
# installs what it needs, builds Release with gcc (warnings are errors at -O2)
# and the ASan+UBSan build with clang, then runs ctest in the latter.
#   tools/test.sh            default suite (well under 15 minutes)
#   NTPMC_CTEST_ARGS="-R ntp" tools/test.sh   a subset
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc)

tools/install-deps.sh --test

echo "== Layer map (tools/check-includes.sh)"
tools/check-includes.sh

echo "== Release build (gcc, -O2, -Werror)"
CC=gcc cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$jobs"

echo "== ASan+UBSan build (clang, with fuzz targets)"
CC=clang cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug \
	-DNTPMC_SANITIZE=ON -DNTPMC_FUZZ=ON >/dev/null
cmake --build build/asan -j"$jobs"

tests/fetch-peers.sh "$top/build/peers"
tests/fetch-prometheus.sh "$top/build/prometheus"
tests/fetch-infra-tools.sh "$top/build/infra-tools"

echo "== ctest"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# shellcheck disable=SC2086
ctest --test-dir build/asan --output-on-failure -j"$jobs" ${NTPMC_CTEST_ARGS:-}
