#!/usr/bin/env bash
# Long seeded fault run of the raft simulation (not part of ctest).
#   tests/bench/raft-soak.sh [BUILD_DIR] [SEEDS] [STEPS] [FIRST_SEED]
# Prints one line per seed; exits non-zero on the first invariant violation
# (the failing seed is in the output: rerun it alone with FIRST_SEED=that
# and SEEDS=1).
set -euo pipefail
build=${1:-build/asan}
export NTPMC_SIM_SEEDS=${2:-200}
export NTPMC_SIM_STEPS=${3:-300}
export NTPMC_SIM_SEED0=${4:-1}
bin="$build/tests/unit/test_raft_sim"
[ -x "$bin" ] || { echo "raft-soak: build $bin first" >&2; exit 2; }
start=$(date +%s)
"$bin" 2>&1 | grep -v ' sim error: '
rc=${PIPESTATUS[0]}
echo "raft-soak: seeds $NTPMC_SIM_SEED0..$((NTPMC_SIM_SEED0 + NTPMC_SIM_SEEDS - 1))" \
	"x $NTPMC_SIM_STEPS steps, rc=$rc, $(( $(date +%s) - start )) s"
exit "$rc"
