#!/usr/bin/env bash
# Keeps the benchmark tools from rotting: ntpbench against echoresp for about
# a second, checking that replies validate, that the source spreading and the
# paced mode work, and that every broken reply echoresp -f can produce is
# caught. Not a speed test: no figure here is compared to a target.
#   bench-smoke.sh NTPBENCH ECHORESP
set -euo pipefail
bench=${1:?usage: bench-smoke.sh NTPBENCH ECHORESP}
echoresp=${2:?usage: bench-smoke.sh NTPBENCH ECHORESP}
tmp=$(mktemp -d)
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# start_echo [ARGS]: starts echoresp on a free port, sets $pid and $port.
start_echo() {
	# Remove the last run's output first: the child truncates the file only
	# when it gets a CPU, and until then the old port would be read here.
	rm -f "$tmp/echo.out"
	"$echoresp" "$@" >"$tmp/echo.out" &
	pid=$!
	for _ in $(seq 100); do
		port=$(awk '$1=="port"{print $2}' "$tmp/echo.out" 2>/dev/null || true)
		[ -n "$port" ] && return 0
		sleep 0.05
	done
	fail "echoresp did not start"
}

stop_echo() {
	kill "$pid"
	wait "$pid" || true
	pid=
}

# check JSON_FILE PYTHON_EXPR: the expression over the report `r` must hold.
check() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("assertion failed: %s\n%s" % (sys.argv[2], json.dumps(r)))
' "$1" "$2" || fail "$3"
}

# bench EXPECTED_RC ARGS...: runs ntpbench -o json into $tmp/r.json.
bench() {
	local want=$1 rc=0
	shift
	"$bench" -p "$port" -t 3000 -o json "$@" >"$tmp/r.json" || rc=$?
	[ "$rc" = "$want" ] || fail "ntpbench $* exited $rc, wanted $want: $(cat "$tmp/r.json")"
}

start_echo
bench 0 -d 1
check "$tmp/r.json" 'r["valid"] > 0 and r["valid"] == r["sent"] and r["invalid"] == 0 and r["lost"] == 0' \
	"closed loop against echoresp"
check "$tmp/r.json" 'r["rtt_us"]["p50"] > 0 and r["server_us"]["p99"] >= r["server_us"]["p50"]' \
	"percentiles"
bench 0 -n 20000 --clients 5000 -s 2
check "$tmp/r.json" 'r["sent"] == 20000 and r["valid"] == 20000 and r["invalid_by_reason"]["source"] == 0' \
	"source spreading over 5000 addresses"
bench 0 -d 0.5 -r 2000
check "$tmp/r.json" '990 <= r["sent"] <= 1001 and r["valid"] == r["sent"]' \
	"open loop paced at 2000/s for 0.5 s"
bench 0 -n 50 -V 3
check "$tmp/r.json" 'r["valid"] == 50' "NTPv3 requests"
stop_echo

# A closed port: everything is lost, nothing valid.
start_echo
stop_echo
bench 1 -n 10 -t 300
check "$tmp/r.json" 'r["valid"] == 0 and r["lost"] == 10' "no server: all lost"

for fault in origin:origin mode:mode version:version unsync:unsynchronized long:length; do
	start_echo -f "${fault%%:*}"
	# A generous loss timeout: on a loaded machine echoresp may wait for a CPU.
	bench 1 -n 40 -t 3000
	check "$tmp/r.json" "r['valid'] == 0 and r['invalid_by_reason']['${fault#*:}'] == 40" \
		"fault ${fault%%:*} must be counted as invalid ${fault#*:}"
	stop_echo
done
start_echo -f kod
bench 1 -n 40
check "$tmp/r.json" 'r["kod"] == 40 and r["invalid"] == 0' "KoD counted apart"
stop_echo

# Bad command lines: usage error, never a DNS query.
for args in "-s 0" "-a ntp.example.org" "-p 70000" "-r -5" "-o yaml" "--clients 5 -a ::1" "stray"; do
	rc=0
	# shellcheck disable=SC2086
	"$bench" $args >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "ntpbench $args exited $rc, wanted 2"
done
echo "bench-smoke: ok"
