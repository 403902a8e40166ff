#!/usr/bin/env bash
# The long chaos run (tests/chaos/chaos.sh) on a Release build: 3 and then
# 5 members, ROUNDS rounds of SECS seconds of faults each, every round
# healed and checked (0 acknowledged writes lost, 0 divergent state
# hashes, 0 stale reads). Not part of the test suite; needs root.
#   tests/bench/chaos-bench.sh [BUILD_DIR] [ROUNDS] [SECS] [SEED]
# Defaults: build/release, 8 rounds of 60 s, seed 1 (about 25 minutes).
# Prints each run's summary line and the total; exits non-zero if any run
# failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/release}
rounds=${2:-8}
secs=${3:-60}
seed=${4:-1}
export NTPNODE=$build/node/ntpnode NTPCTL=$build/tools/ntpctl
export CHAOSDUMP=$build/tests/chaos/chaosdump
for b in "$NTPNODE" "$NTPCTL" "$CHAOSDUMP"; do
	[ -x "$b" ] || { echo "chaos-bench: build $b first" >&2; exit 2; }
done
rc=0
t0=$(date +%s)
lines=()
for n in 3 5; do
	out=$(mktemp)
	if bash "$top/tests/chaos/chaos.sh" -n "$n" -s "$seed" -r "$rounds" \
		-t "$secs" >"$out" 2>"$out.err"; then
		:
	else
		rc=1
		tail -n 40 "$out.err" >&2
	fi
	line=$(grep '^chaos:' "$out" || echo "chaos: $n members: no summary")
	echo "$line"
	lines+=("$line")
	rm -f "$out" "$out.err"
done
# Totals over both runs.
printf '%s\n' "${lines[@]}" | awk -v t=$(( $(date +%s) - t0 )) '
	{ for (i = 1; i <= NF; i++) {
		if ($i == "faults") f += $(i - 1)
		if ($i == "writes") a += $(i + 1)
		if ($i == "lost") l += $(i + 1)
		if ($i == "divergent") d += $(i + 1)
		if ($i == "stale") s += $(i + 1)
	} }
	END { printf "chaos-bench: %d s, %d faults, %d writes acknowledged, " \
		"%d lost, %d divergent, %d stale\n", t, f, a, l, d, s }'
exit $rc
