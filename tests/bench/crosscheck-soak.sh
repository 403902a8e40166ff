#!/usr/bin/env bash
# The cross-check's false-alarm soak (a benchmark, not CI): MEMBERS honest
# members on loopback, each synchronized from its own three simulated
# upstreams over jittery paths, and every member reached by the others
# through its own asymmetric, jittery, lossy delay relay (ntpsim -r;
# `crosscheck-port`, test-only, tells the members to use it). Every
# SAMPLE seconds for DURATION seconds it asks every member for its verdict
# and one NTP reply; any suspect, any LI 3 reply, any suspect event in the
# audit trail is a false suspect. At the end: the verdicts' counts, the
# offsets from consensus, and what each member sent per check.
#   tests/bench/crosscheck-soak.sh [BUILD] [DURATION] [MEMBERS] [INTERVAL]
#   defaults: build/release 1800 5 1
# Exit 0 when there was no false suspect.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build/release}" && pwd)
duration=${2:-1800}
nmem=${3:-5}
interval=${4:-1}
sample=${SAMPLE:-10}
export NTPNODE=$build/node/ntpnode NTPCTL=$build/tools/ntpctl
NTPSIM=$build/tools/ntpsim
NTPPROBE=$build/tools/ntpprobe
# shellcheck source=tests/integration/lib-cluster.sh
. "$top/tests/integration/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"
sims=()
cleanup() {
	local p
	for p in "${sims[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	lc_cleanup
}
trap cleanup EXIT
if [ "$nmem" -lt 3 ] || [ "$nmem" -gt 9 ]; then lc_fail "MEMBERS: 3..9"; fi

# The paths into each member (one relay per member, every other member's
# requests and the answers go through it): one-way base delays of tens of
# ms, ms of exponential jitter, asymmetric, some loss.
paths=(
	"fwd=25ms,ret=8ms,fwdjitter=4ms,retjitter=2ms"
	"fwd=10ms,ret=35ms,fwdjitter=2ms,retjitter=6ms,loss=1"
	"fwd=40ms,ret=40ms,jitter=5ms"
	"fwd=5ms,ret=30ms,fwdjitter=1ms,retjitter=8ms,loss=2"
	"fwd=60ms,ret=15ms,fwdjitter=10ms,retjitter=1ms,loss=5"
	"fwd=20ms,ret=20ms,jitter=1ms"
	"fwd=35ms,ret=5ms,fwdjitter=3ms,retjitter=3ms"
	"fwd=15ms,ret=45ms,jitter=4ms,loss=1"
	"fwd=50ms,ret=25ms,fwdjitter=6ms,retjitter=6ms"
)
# Each member's own upstreams: a few ms away, jittery, one asymmetric.
up_paths=("delay=2ms,jitter=1ms" "fwd=4ms,ret=1ms,jitter=1ms"
	  "delay=6ms,jitter=3ms")

start_sim() {
	local out=$1
	shift
	"$NTPSIM" --seed 11 "$@" >"$out" 2>"${out%.out}.err" &
	sims+=($!)
	for _ in $(seq 50); do
		grep -q '^ready' "$out" && return 0
		sleep 0.1
	done
	lc_fail "ntpsim did not start: $(cat "${out%.out}.err")"
}

net="127.$((RANDOM % 240 + 5)).$((RANDOM % 250 + 2))"
specs=()
for m in $(seq 1 "$nmem"); do
	for k in 1 2 3; do
		specs+=(-s "$net.$m$k,${up_paths[$((k - 1))]}")
	done
done
start_sim "$LC_DIR/up.out" "${specs[@]}"
relay_port=()
for m in $(seq 1 "$nmem"); do
	relay_port[m]=$(lc_free_port) || lc_fail "no free port"
	ups=()
	for k in 1 2 3; do
		p=$(awk -v a="$net.$m$k" '$1 == "server" && $2 == a { print $3 }' \
			"$LC_DIR/up.out")
		ups+=("upstream $net.$m$k port $p minpoll 0 maxpoll 2 iburst")
	done
	lc_conf "$m" "${ups[@]}" "crosscheck-interval $interval" \
		"test-mode yes" "crosscheck-port ${relay_port[m]}"
done
specs=()
for m in $(seq 1 "$nmem"); do
	specs+=(-r "127.0.0.1,port=${relay_port[m]},to=127.0.0.1:$(lc_nport "$m"),${paths[$((m - 1))]}")
done
start_sim "$LC_DIR/relay.out" "${specs[@]}"

lc_log "forming the cluster: $nmem members, crosscheck-interval $interval s"
lc_init 1
for m in $(seq 2 "$nmem"); do
	lc_join "$m" "$(lc_ctl 1 token create)"
done
lc_wait_voters $((nmem >= 5 ? 5 : 3)) 60 || lc_fail "voters"
decided() {
	local m
	for m in $(seq 1 "$nmem"); do
		lc_ctl "$m" -o json tracking | jq -e '.synchronized and
			.crosscheck.verdict == "ok"' >/dev/null || return 1
	done
}
lc_until 120 decided || lc_fail "not every member synchronized and ok"

lc_log "soak: $duration s, a look every $sample s"
t0=$(date +%s)
false=0 li3=0 looks=0 unknown=0
while [ $(($(date +%s) - t0)) -lt "$duration" ]; do
	sleep "$sample"
	looks=$((looks + 1))
	for m in $(seq 1 "$nmem"); do
		j=$(lc_ctl "$m" -o json tracking) || lc_fail "n$m: tracking"
		v=$(jq -r .crosscheck.verdict <<<"$j")
		case $v in
		ok) ;;
		unknown) unknown=$((unknown + 1)) ;;
		*) false=$((false + 1))
		   lc_log "n$m: $v: $(jq -c .crosscheck <<<"$j")" ;;
		esac
		l=$("$NTPPROBE" -a 127.0.0.1 -p "$(lc_nport "$m")" --count 1 \
			--interval 0.01 --timeout 0.5 2>/dev/null | awk '{ print $2 " " $3 }')
		case $l in
		"kod ????") li3=$((li3 + 1)); lc_log "n$m replied LI 3" ;;
		esac
		jq -r --arg m "n$m" '[$m, (.crosscheck.offset_ms // "null")] |
			@tsv' <<<"$j" >>"$LC_DIR/offsets.tsv"
	done
done
elapsed=$(($(date +%s) - t0))

lc_log "results after $elapsed s"
events=$(lc_ctl 1 audit 1000 | grep -c "cross-check suspect" || true)
tr=0
checks=0
printf '%-4s %7s %7s %7s %11s %11s %10s\n' member checks decided suspect \
	req_sent req_recvd bytes/check
for m in $(seq 1 "$nmem"); do
	j=$(lc_ctl "$m" -o json tracking)
	c=$(jq .crosscheck.checks <<<"$j")
	checks=$((checks + c))
	tr=$((tr + $(jq .crosscheck.transitions <<<"$j")))
	sent=$(jq .crosscheck.requests_sent <<<"$j")
	# what the others sent it: its own serving threads answered them
	recvd=0
	for o in $(seq 1 "$nmem"); do
		[ "$o" = "$m" ] && continue
		s=$(lc_ctl "$o" -o json tracking | jq --arg n "n$m" \
			'.crosscheck.members_measured[] | select(.name == $n) | .sent')
		recvd=$((recvd + s))
	done
	printf '%-4s %7s %7s %7s %11s %11s %10.1f\n' "n$m" "$c" \
		"$(jq .crosscheck.decided <<<"$j")" \
		"$(jq .crosscheck.transitions <<<"$j")" "$sent" "$recvd" \
		"$(awk -v s="$sent" -v r="$recvd" -v c="$c" \
			'BEGIN { print c ? 68 * (s + r) / c : 0 }')"
done
awk -F'\t' '$2 != "null" { v = $2 < 0 ? -$2 : $2; if (v > mx[$1]) mx[$1] = v;
	s[$1] += v; n[$1]++ } END { for (m in mx) printf "%s: offset from the" \
	" median of the others: mean |%.3f| ms, max |%.3f| ms\n", m, s[m] / n[m],
	mx[m] }' "$LC_DIR/offsets.tsv" | sort
# the relays print their counters when they stop
kill "${sims[1]}" 2>/dev/null || true
wait "${sims[1]}" 2>/dev/null || true
grep -h "relay " "$LC_DIR/relay.err" || true
echo "soak: $nmem members, interval $interval s, $elapsed s, $checks" \
	"checks in all, $looks looks: false suspects $false (verdicts)," \
	"$li3 (LI 3 replies), $tr (transitions), $events (audit events);" \
	"unknown verdicts seen $unknown"
[ "$false" = 0 ] && [ "$li3" = 0 ] && [ "$tr" = 0 ] && [ "$events" = 0 ]
