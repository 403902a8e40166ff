#!/usr/bin/env bash
# Datadir size after N replicated config writes on a real disk (the
# target: <= 8 MB after 10,000). Runs the compaction test of test_raft_ops
# with N writes in a temp dir under TMPDIR (default /var/tmp: not tmpfs).
#   tests/bench/raft-datadir.sh [BUILD_DIR] [WRITES]
set -euo pipefail
build=${1:-build/release}
writes=${2:-10000}
bin="$build/tests/unit/test_raft_ops"
[ -x "$bin" ] || { echo "raft-datadir: build $bin first" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/ntpmc-datadir-XXXXXX")
trap 'rm -rf "$dir"' EXIT
start=$(date +%s.%N)
NTPMC_SIM_DIR=$dir NTPMC_COMPACT_WRITES=$writes CMOCKA_TEST_ABORT=1 \
	"$bin" 2>&1 | grep -E 'config writes|FAIL|ERROR' || true
echo "raft-datadir: $writes writes in $(echo "$(date +%s.%N) - $start" | bc) s"
