#!/usr/bin/env bash
# The accelerated week of rotation (tests/e2e/rotation-week.sh in the cloud
# in a box) at a chosen speed, with its figures: NTP below min-serving,
# leaderless time, writes refused or slowed around each planned leadership
# move, the hours ledger against the fake cloud's record. The default test
# run uses 5000x (about 120 s); slower is closer to real timing (1000x:
# about 10 minutes). Needs root (namespaces) and a Release build (ntpsim,
# ntpprobe, ntpctl); the VMs run the package's ntpnode, built first from
# this tree by tools/build-deb.sh (Debian's -O2 and hardening flags).
#   tests/bench/rotation-week.sh [SPEED] [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
speed=${1:-1000}
build=${2:-$top/build/release}
report=$(mktemp /tmp/ntpmc-rotweek.XXXXXX)
trap 'rm -f "$report"' EXIT
deb=$("$top/tools/build-deb.sh" | tail -n 1)
ROT_SPEED=$speed ROT_REPORT=$report "$top/tools/cloud-in-a-box.sh" \
	-b "$build" -p "$deb" -s "$top/tests/e2e/rotation-week.sh" >&2
echo "rotation week at ${speed}x ($build):"
sed 's/^/  /' "$report"
