#!/usr/bin/env bash
# ntpnode.service's readiness, status and watchdog, without systemd:
# sdharness.py runs the unit's ExecStart the way systemd would (the unit's
# capabilities minus CAP_SYS_TIME, as an unprivileged user, through
# setpriv), with NOTIFY_SOCKET, WATCHDOG_USEC (2 s here) and WATCHDOG_PID.
#   - an idle standalone node on two sockets and two threads: READY=1 when
#     NTP and the control socket already answer, a status line, pings all
#     along (idle threads still wake), STOPPING=1 and exit 0 on SIGTERM;
#   - `test-hang loop 3`: the pings stop, the watchdog's SIGABRT ends it;
#   - `test-hang serve 3`: the loop runs, one serving thread is stuck: the
#     pings stop too, and the status says why;
#   - a cluster member (`init --no-run` first, then the unit): READY only
#     after it is a member, its role in the status.
#   sd-notify.sh UNIT NTPNODE
set -euo pipefail
unit=${1:?usage: sd-notify.sh UNIT NTPNODE}
node=${2:?usage: sd-notify.sh UNIT NTPNODE}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "sd-notify: needs root (setpriv to another user)"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "sd-notify: no user nobody"; exit 77; }
group=$(id -gn nobody)
tmp=$(mktemp -d /tmp/ntpmc-sd.XXXXXX)
chmod 0755 "$tmp"
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.events "$tmp"/*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -30 "$f"; } >&2
	done
	exit 1
}

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((12000 + RANDOM % 20000))
		if ! ss -Htaun | awk '{print $5}' | grep -q ":$p\$"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# conf NAME PORT [EXTRA...]: a config and a datadir the user can write
conf() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$tmp/$name"
	{
		echo "listen 127.0.0.1 port $port"
		echo "datadir $tmp/$name"
		echo "control $tmp/$name/ctl.sock"
		printf '%s\n' "$@"
	} >"$tmp/$name.conf"
	chown "nobody:$group" "$tmp/$name"
}

# harness NAME PORT RUN_FOR: runs the unit, events in $tmp/NAME.events
harness() {
	python3 "$here/sdharness.py" --unit "$unit" --ntpnode "$node" \
		--config "$tmp/$1.conf" --user nobody --group "$group" \
		--watchdog-sec 2 --run-for "$3" \
		--probe-ntp "127.0.0.1:$2" --probe-ctl "$tmp/$1/ctl.sock" \
		>"$tmp/$1.events" 2>"$tmp/$1.log" || fail "$1: harness failed"
}

count() { grep -c " $2\b" "$tmp/$1.events" || true; }
has() { grep -q -- "$2" "$tmp/$1.events" || fail "$1: no '$2' event"; }
hasnt() { ! grep -q -- "$2" "$tmp/$1.events" || fail "$1: unexpected '$2'"; }

# --- idle, standalone: readiness, status, pings, clean stop -----------------
p=$(free_port)
conf idle "$p" "listen 127.0.0.2 port $p" "local stratum 10" \
	"serve-threads 2"
harness idle "$p" 8
has idle " READY"
has idle "PROBE ntp=ok ctl=ok"
has idle "STATUS local clock, stratum 10; standalone"
hasnt idle "WATCHDOG-TIMEOUT"
# 8 s idle at a 1 s ping interval (half of 2 s), threads idle past 3 s
[ "$(count idle WATCHDOG)" -ge 6 ] || fail "idle: too few pings"
has idle " STOPPING"
has idle "EXIT code 0"
# READY before the first STATUS-only message; STOPPING after TERM
awk '$2=="READY"{r=NR} $2=="TERM"{t=NR} $2=="STOPPING"{s=NR}
	END{exit !(r && t && s > t)}' "$tmp/idle.events" ||
	fail "idle: events out of order"

# --- the event loop hangs: no pings, SIGABRT --------------------------------
p=$(free_port)
conf loop "$p" "local stratum 10" "serve-threads 1" "test-mode yes" \
	"test-hang loop 3"
harness loop "$p" 30
has loop " READY"
has loop "WATCHDOG-TIMEOUT"
has loop "EXIT signal SIGABRT"
# the last ping came before the hang (3 s), the timeout 2 s after it
awk '$2=="WATCHDOG"{w=$1} $2=="WATCHDOG-TIMEOUT"{t=$1}
	END{exit !(w < 3.5 && t > 4 && t < 6.5)}' "$tmp/loop.events" ||
	fail "loop: pings or timeout at the wrong time"

# --- one serving thread is stuck: no pings, the status says so --------------
p=$(free_port)
conf stall "$p" "local stratum 10" "serve-threads 2" "test-mode yes" \
	"test-hang serve 3"
harness stall "$p" 30
has stall " READY"
has stall "STATUS serving thread stuck"
has stall "WATCHDOG-TIMEOUT"
has stall "EXIT signal SIGABRT"
# stuck at 3 s, seen past SVC_STALL_MS (3 s): pings end by about 7 s
awk '$2=="WATCHDOG"{w=$1} $2=="WATCHDOG-TIMEOUT"{t=$1}
	END{exit !(w > 4 && w < 7.5 && t < 10)}' "$tmp/stall.events" ||
	fail "stall: pings or timeout at the wrong time"

# --- a cluster member: init --no-run, then the unit -------------------------
p=$(free_port)
cp=$(free_port)
conf member "$p" "local stratum 10" "serve-threads 1" \
	"cluster-listen 127.0.0.1 port $cp"
setpriv --reuid nobody --regid "$group" --clear-groups \
	--bounding-set=-sys_time --inh-caps=-sys_time \
	"$node" init --no-run -c "$tmp/member.conf" >"$tmp/init.out" \
	2>"$tmp/init.log" || fail "init --no-run failed"
grep -q . "$tmp/init.out" || fail "init --no-run printed no token"
[ ! -e "$tmp/member/ctl.sock" ] || fail "init --no-run opened the control socket"
harness member "$p" 3
has member "PROBE ntp=ok ctl=ok"
has member "; cluster leader"
has member "EXIT code 0"
echo "sd-notify: ok"
