#!/usr/bin/env bash
# ntpsim smoke: servers on random 127.x addresses (ephemeral ports) answer
# with the configured clock offset, step, delay and loss, as seen by
# ntpprobe against the truth in ntpsim's status file; a second ntpsim's
# UDP delay relay in front of one of them adds its asymmetric path.
#   ntpsim_smoke.sh NTPSIM NTPPROBE
set -euo pipefail
sim=${1:?ntpsim binary}
probe=${2:?ntpprobe binary}
dir=$(mktemp -d)
pid=
rpid=
cleanup() {
	for p in "$pid" "$rpid"; do
		[ -n "$p" ] || continue
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	cat "$dir/sim.err" >&2 || true
	exit 1
}
rnd() { echo $((RANDOM % 250 + 2)); }

for try in 1 2 3 4 5; do
	net="127.$(rnd).$(rnd)"
	a="$net.11" b="$net.12" c="$net.13" k="$net.14"
	"$sim" --seed 7 --truth-offset 0.1 --status "$dir/status" \
		-s "$a,offset=250ms,stratum=2,refid=10.1.2.3" \
		-s "$b,delay=20ms,fwd=30ms,loss=30" \
		-s "$c,offset=-5ms,step=1s:500ms" \
		-s "$k,kod=RATE" \
		>"$dir/sim.out" 2>"$dir/sim.err" &
	pid=$!
	for _ in $(seq 50); do
		grep -q '^ready' "$dir/sim.out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^ready' "$dir/sim.out" && break
	wait "$pid" 2>/dev/null || true
	pid=
	echo "ntpsim did not start on $net (try $try), retrying" >&2
done
[ -n "$pid" ] || fail "ntpsim never started"
port() { awk -v a="$1" '$1 == "server" && $2 == a { print $3 }' "$dir/sim.out"; }

# Truth query mode agrees with --truth-offset.
t=$("$sim" truth "$dir/status")
awk -v t="$t" 'BEGIN { exit !(t > 0.0999 && t < 0.1001) }' ||
	fail "ntpsim truth printed $t, expected 0.1"

# Server a: +250 ms from truth, stratum 2.
"$probe" -a "$a" -p "$(port "$a")" --status "$dir/status" --count 10 \
	--interval 0.05 >"$dir/a.out" 2>"$dir/a.sum"
awk '$2 != "lost" { n++; if ($2 < 0.249 || $2 > 0.251 || $4 != 2) bad++ }
     END { exit !(n == 10 && bad == 0) }' "$dir/a.out" ||
	fail "server a: $(cat "$dir/a.out")"

# Server b: 50 ms round trip, asymmetric (offset (30-20)/2 = +5 ms seen by
# a client), 30 % loss per direction (about half the exchanges fail).
"$probe" -a "$b" -p "$(port "$b")" --status "$dir/status" --count 40 \
	--interval 0.05 --timeout 0.2 >"$dir/b.out" 2>"$dir/b.sum"
awk '$2 == "lost" { lost++; next }
     { n++; if ($5 < 0.0495 || $5 > 0.06 || $2 < 0.004 || $2 > 0.006) bad++ }
     END { exit !(n >= 5 && lost >= 5 && bad == 0) }' "$dir/b.out" ||
	fail "server b: $(cat "$dir/b.out")"

# Server c: -5 ms, then +500 ms one second after start.
sleep 1
"$probe" -a "$c" -p "$(port "$c")" --status "$dir/status" --count 3 \
	--interval 0.05 >"$dir/c.out" 2>"$dir/c.sum"
awk '$2 != "lost" { n++; if ($2 < 0.494 || $2 > 0.496) bad++ }
     END { exit !(n == 3 && bad == 0) }' "$dir/c.out" ||
	fail "server c: $(cat "$dir/c.out")"

# Server k: kiss-o'-death RATE on every request.
"$probe" -a "$k" -p "$(port "$k")" --count 2 --interval 0.05 >"$dir/k.out" \
	2>"$dir/k.sum"
[ "$(grep -c ' kod RATE$' "$dir/k.out")" = 2 ] ||
	fail "server k: $(cat "$dir/k.out")"

# A relay in front of a: 30 ms there, 10 ms back (plus 0.2 ms of jitter
# on average each way): 40 ms round trip, a seen (30-10)/2 = 10 ms later.
# The relay cannot hide its own lateness (a busy machine, ctest -j): the
# bounds leave it a few ms, but the offset must show the asymmetry.
"$sim" -r "$net.15,to=$a:$(port "$a"),fwd=30ms,ret=10ms,jitter=0.2ms" \
	>"$dir/relay.out" 2>"$dir/relay.err" &
rpid=$!
for _ in $(seq 50); do
	grep -q '^ready' "$dir/relay.out" 2>/dev/null && break
	sleep 0.1
done
rport=$(awk '$1 == "relay" { print $3 }' "$dir/relay.out")
[ -n "$rport" ] || fail "the relay did not start: $(cat "$dir/relay.err")"
"$probe" -a "$net.15" -p "$rport" --status "$dir/status" --count 5 \
	--interval 0.05 >"$dir/r.out" 2>"$dir/r.sum"
awk '$2 != "lost" { n++; if ($5 < 0.040 || $5 > 0.070 || $2 < 0.255 ||
	$2 > 0.266) bad++ } END { exit !(n == 5 && bad == 0) }' "$dir/r.out" ||
	fail "relay: $(cat "$dir/r.out")"
kill "$rpid"
wait "$rpid" || fail "the relay exited with $?"
rpid=
grep -q "^ntpsim: relay $net.15:$rport -> $a:.* in 10 out 10 " \
	"$dir/relay.err" || fail "relay counters: $(cat "$dir/relay.err")"

# Clean stop on SIGTERM, with per-server counters.
kill "$pid"
wait "$pid" || fail "ntpsim exited with $?"
pid=
grep -q "^ntpsim: $b:.* req_lost [1-9]" "$dir/sim.err" ||
	fail "no request loss counted for b"
echo "ntpsim smoke: ok"
