#!/usr/bin/env bash
# ntpnode and ntpctl as an operator meets them, on loopback: the CLI,
# `ntpnode check`, serverstats counting real NTP packets (text and JSON),
# one daemon per datadir / port / control socket, a stale socket after
# kill -9, the socket's mode, SO_PEERCRED on a mutating command, ntpctl's
# exit codes, clean shutdown. Daemons run without CAP_SYS_TIME.
#   node-ctl.sh NTPNODE NTPCTL
set -euo pipefail
node=${1:?usage: node-ctl.sh NTPNODE NTPCTL}
ctl=${2:?usage: node-ctl.sh NTPNODE NTPCTL}
tmp=$(mktemp -d)
chmod 0750 "$tmp"       # the socket's group may traverse (peercred test)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; } >&2
	done
	exit 1
}

nocap=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)
if ! "${nocap[@]}" true 2>/dev/null; then
	nocap=()        # not root: we have no CAP_SYS_TIME anyway
fi

# expect RC CMD...: runs CMD, output in $tmp/out and $tmp/err.
expect() {
	local want=$1 rc=0
	shift
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$want" ] ||
		fail "$* exited $rc, wanted $want: $(cat "$tmp/out" "$tmp/err")"
}

has() {
	grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(cat "$1")"
}

# writeconf NAME PORT DATADIR CONTROL [EXTRA]: a config file $tmp/NAME.conf
writeconf() {
	cat >"$tmp/$1.conf" <<EOF
# test node $1
listen 127.0.0.1 port $2
local stratum 10
${rl:-ratelimit off}
serve-threads 1
datadir $3
control $4
${5:-}
EOF
}

# start NAME DATADIR CONTROL: starts a node on an ephemeral port (port 0,
# read back from its log); sets $pid and $port.
start() {
	local name=$1
	writeconf "$name" 0 "$2" "$3"
	"${nocap[@]}" "$node" run -c "$tmp/$name.conf" >"$tmp/$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null ||
			fail "$name did not start: $(cat "$tmp/$name.log")"
		if "$ctl" -s "$3" serverstats >/dev/null 2>&1; then
			port=$(sed -n 's/.*serving NTP on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
				"$tmp/$name.log" | head -1)
			[ -n "$port" ] || fail "$name logged no port"
			return 0
		fi
		sleep 0.05
	done
	fail "$name did not answer on $3"
}

# ntp_send PORT: 5 client requests (answered), a short packet and a mode 6
# query (dropped); prints how many replies came back.
ntp_send() {
	python3 - "$1" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
replies = 0
for i in range(5):
    req = bytearray(48)
    req[0] = (0 << 6) | (4 << 3) | 3          # LI 0, v4, mode 3
    struct.pack_into("!Q", req, 40, 0x1234567800000000 + i)
    s.sendto(req, ("127.0.0.1", port))
    data, _ = s.recvfrom(1024)
    assert len(data) == 48, len(data)
    assert data[0] & 7 == 4, "mode %d" % (data[0] & 7)
    assert data[24:32] == req[40:48], "origin timestamp not echoed"
    assert data[1] == 10, "stratum %d" % data[1]
    replies += 1
s.sendto(b"\x23" * 20, ("127.0.0.1", port))             # too short
s.sendto(bytes([(4 << 3) | 6]) + bytes(47), ("127.0.0.1", port))  # mode 6
try:
    s.settimeout(0.3)
    s.recvfrom(1024)
    sys.exit("a dropped packet was answered")
except socket.timeout:
    pass
print(replies)
EOF
}

# --- the command line ------------------------------------------------------
expect 2 "$node"
has "$tmp/err" "usage: ntpnode"
expect 2 "$node" frobnicate -c /dev/null
has "$tmp/err" "unknown command 'frobnicate'"
expect 2 "$node" run
has "$tmp/err" "run needs -c FILE"
expect 2 "$node" --no-such-option run -c x
has "$tmp/err" "ntpnode: unknown option '--no-such-option'"
expect 2 "$node" check -c
has "$tmp/err" "ntpnode: -c needs a value"
expect 2 "$node" check -c a b
has "$tmp/err" "ntpnode: unexpected argument 'b'"
expect 2 "$node" run -c x --from y
has "$tmp/err" "ntpnode: --from is not an option of run"
expect 2 "$node" restore -c x
has "$tmp/err" "ntpnode: restore needs --from BACKUP"
expect 0 "$node" --version
has "$tmp/out" "ntpnode "
nodever=$(cat "$tmp/out")
expect 0 "$node" run --version
[ "$(cat "$tmp/out")" = "$nodever" ] || fail "run --version: $(cat "$tmp/out")"
# NAME VERSION, the release CMake builds (NTPMC_VERSION from ctest), with
# no config file anywhere
expect 0 "$node" --version
[ "$(cat "$tmp/out")" = "ntpnode ${NTPMC_VERSION:?}" ] ||
	fail "ntpnode --version said: $(cat "$tmp/out")"
expect 0 "$ctl" --version
[ "$(cat "$tmp/out")" = "ntpctl $NTPMC_VERSION" ] ||
	fail "ntpctl --version said: $(cat "$tmp/out")"
expect 0 "$node" --help
has "$tmp/out" "usage: ntpnode"
expect 0 "$node" frobnicate --bogus -h          # -h wins wherever it is
has "$tmp/out" "usage: ntpnode"

# --- ntpnode check ---------------------------------------------------------
writeconf good 123 "$tmp/d" "$tmp/c.sock"
expect 0 "$node" check -c "$tmp/good.conf"
[ "$(cat "$tmp/out")" = "$tmp/good.conf: ok" ] || fail "check said: $(cat "$tmp/out")"
expect 0 "$node" -c "$tmp/good.conf" check       # options in any order
expect 0 "$node" --config="$tmp/good.conf" check
expect 2 "$node" -c "$tmp/good.conf" -- check --config="$tmp/good.conf"
has "$tmp/err" "unexpected argument '--config=$tmp/good.conf'"
expect 0 "$node" check -c /dev/null               # all defaults
printf 'local stratum 3\nbogus 1\nlisten nowhere\n' >"$tmp/bad.conf"
expect 1 "$node" check -c "$tmp/bad.conf"
has "$tmp/err" "$tmp/bad.conf:2: unknown directive 'bogus'"
has "$tmp/err" "$tmp/bad.conf:3: listen: 'nowhere' is not a numeric"
expect 1 "$node" check -c "$tmp/missing.conf"
has "$tmp/err" "$tmp/missing.conf: cannot open"
# run refuses to start on a bad file.
expect 1 "$node" run -c "$tmp/bad.conf"
has "$tmp/err" "not starting"

# --- ntpctl without a daemon ---------------------------------------------
expect 2 "$ctl" -s "$tmp/none.sock" frobnicate
has "$tmp/err" "unknown command 'frobnicate'"
has "$tmp/err" "usage: ntpctl"
expect 2 "$ctl"
expect 2 "$ctl" -o yaml serverstats
has "$tmp/err" "-o takes text or json, not 'yaml'"
expect 2 "$ctl" -s "$tmp/none.sock" serverstats --bogus
has "$tmp/err" "ntpctl: unknown option '--bogus'"
has "$tmp/err" "usage: ntpctl serverstats"
expect 2 "$ctl" -s "$tmp/none.sock" token create --ttl
has "$tmp/err" "ntpctl: --ttl needs a value"
expect 0 "$ctl" --version
# one version for both programs (CMake's project version)
[ "$(cat "$tmp/out")" = "ntpctl ${nodever#ntpnode }" ] ||
	fail "ntpctl --version: $(cat "$tmp/out"), ntpnode: $nodever"
expect 0 "$ctl" serverstats --version
has "$tmp/out" "ntpctl "
expect 0 "$ctl" --help
has "$tmp/out" "usage: ntpctl"
has "$tmp/out" "token create [--ttl DURATION] [--uses N]"
expect 0 "$ctl" backup --help
has "$tmp/out" "usage: ntpctl backup [--force] [--local] FILE"
expect 1 "$ctl" -s "$tmp/none.sock" serverstats
has "$tmp/err" "ntpctl: cannot reach ntpnode at $tmp/none.sock: is it running?"
NTPCTL_SOCKET="$tmp/none2.sock" expect 1 "$ctl" serverstats
has "$tmp/err" "$tmp/none2.sock"

# --- an ntpnode of another control protocol version ------------------------
# A fake daemon answering as version 1 did (CtlResponse{version: 1}).
python3 - "$tmp/v1.sock" <<'EOF' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
s.settimeout(10)
c, _ = s.accept()
n = struct.unpack("!I", c.recv(4))[0]
while n > 0:
    n -= len(c.recv(n))
c.sendall(struct.pack("!I", 2) + b"\x08\x01")
c.close()
EOF
v1pid=$!
pids+=("$v1pid")
for _ in $(seq 100); do [ -S "$tmp/v1.sock" ] && break; sleep 0.05; done
expect 1 "$ctl" -s "$tmp/v1.sock" serverstats
has "$tmp/err" "ntpnode speaks control protocol version 1, this ntpctl 2"
wait "$v1pid" || fail "the fake version 1 daemon failed"

# --- a running node ----------------------------------------------------------
data=$tmp/data
sock=$tmp/run/ctl.sock
start a "$data" "$sock"
apid=$pid
aport=$port
has "$tmp/a.log" "serving NTP on 127.0.0.1:$aport"
has "$tmp/a.log" "control socket $sock"
[ "$(stat -c %a "$sock")" = 660 ] || fail "socket mode $(stat -c %a "$sock")"
[ "$(stat -c %a "$data")" = 750 ] || fail "datadir mode $(stat -c %a "$data")"
[ "$(cat "$data/lock")" = "$apid" ] || fail "lock holds '$(cat "$data/lock")'"

[ "$(ntp_send "$aport")" = 5 ] || fail "not every request was answered"
expect 0 "$ctl" -s "$sock" serverstats
has "$tmp/out" "Requests received      : 7"
has "$tmp/out" "Replies sent           : 5"
has "$tmp/out" "  short or malformed   : 1"
has "$tmp/out" "  mode 6/7 control     : 1"
has "$tmp/out" "Current rate"
expect 0 "$ctl" serverstats -o json -s "$sock"  # options anywhere
python3 - "$tmp/out" <<'EOF' || fail "serverstats JSON: $(cat "$tmp/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["received"] == 7, r
assert r["replied"] == 5, r
assert r["dropped"]["short"] == 1, r
assert r["dropped"]["control"] == 1, r
assert r["dropped"]["total"] >= 2, r
assert r["kod_sent"] == 0 and r["rate_limited"] == 0, r
assert isinstance(r["rate_rps"], (int, float)), r
EOF
expect 2 "$ctl" -s "$sock" serverstats extra
expect 0 "$ctl" serverstats -s "$sock" -o json   # -o json after the command
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" ||
	fail "serverstats -o json: $(cat "$tmp/out")"
# in the table, but this node runs no cluster
expect 1 "$ctl" -s "$sock" cluster status -o json
has "$tmp/err" "'cluster status' is not available"
# no upstream lines: sources and tracking still answer, saying so
expect 0 "$ctl" -s "$sock" sources
has "$tmp/out" "no upstream or pool lines are configured"
has "$tmp/out" "stratum 10 (local stratum)"
expect 0 "$ctl" -s "$sock" -o json tracking
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); assert t["configured"] == 0 and t["stratum"] == 10, t' "$tmp/out" ||
	fail "tracking -o json: $(cat "$tmp/out")"

# --- one daemon per datadir, port and socket ----------------------------
writeconf b 0 "$data" "$tmp/b.sock"
expect 1 "${nocap[@]}" "$node" run -c "$tmp/b.conf"
has "$tmp/err" "another ntpnode (pid $apid) holds $data/lock"
writeconf c "$aport" "$tmp/data-c" "$tmp/c.sock"
expect 1 "${nocap[@]}" "$node" run -c "$tmp/c.conf"
[ -e "$tmp/c.sock" ] && fail "a refused daemon left its control socket"
writeconf d 0 "$tmp/data-d" "$sock"
expect 1 "${nocap[@]}" "$node" run -c "$tmp/d.conf"
has "$tmp/err" "another ntpnode is serving on $sock"
[ -S "$sock" ] || fail "the live socket was removed"
writeconf e 0 "$tmp/data-e" "$tmp/e.sock" "discipline kernel"
expect 1 "${nocap[@]}" "$node" run -c "$tmp/e.conf"
has "$tmp/err" "needs CAP_SYS_TIME"

# --- SO_PEERCRED: a member of the socket's group reads but does not change --
if [ "$(id -u)" = 0 ]; then
	nobody=(setpriv --reuid=65534 --regid=0 --clear-groups)
	expect 0 "${nobody[@]}" "$ctl" -s "$sock" serverstats
	expect 1 "${nobody[@]}" "$ctl" -s "$sock" loglevel debug
	has "$tmp/err" "permission denied"
	expect 0 "$ctl" -s "$sock" loglevel debug
	expect 0 "$ctl" -s "$sock" loglevel info

	# Connections are limited per user: a group member holding 70 of them
	# (each answered once, then kept open) gets 16; root is still served.
	py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	"${nobody[@]}" "$py" - "$sock" 70 >"$tmp/held" <<'EOF' &
import socket, struct, sys, time
path, n = sys.argv[1], int(sys.argv[2])
cmd = b"serverstats"
body = b"\x08\x02" + bytes([0x12, len(cmd)]) + cmd  # version 2, command
frame = struct.pack(">I", len(body)) + body
held, answered, refused = [], 0, 0
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)
    try:
        s.sendall(frame)
    except OSError:
        pass  # refused before it read the request: the reply says why
    try:
        r = s.recv(65536)
    except OSError:
        r = b""
    if b"the limit per user" in r:
        refused += 1
    elif r:
        answered += 1
    held.append(s)
print(answered, refused, flush=True)
time.sleep(25)
EOF
	holder=$!
	pids+=("$holder")
	for _ in $(seq 1 100); do
		[ -s "$tmp/held" ] && break
		sleep 0.1
	done
	read -r answered refused <"$tmp/held" || fail "the holder did not report"
	[ "$answered" = 16 ] && [ "$refused" = 54 ] ||
		fail "uid 65534: $answered answered, $refused refused (want 16, 54)"
	t0=$(date +%s%N)
	expect 0 "$ctl" -s "$sock" serverstats
	t1=$(date +%s%N)
	expect 0 "$ctl" -s "$sock" loglevel info
	echo "root's ntpctl serverstats answered in $(((t1 - t0) / 1000000)) ms" \
		"while uid 65534 holds 16 connections and was refused 54 more"
	expect 1 "${nobody[@]}" "$ctl" -s "$sock" serverstats
	has "$tmp/err" "this user already holds 16 control connections (the limit per user)"
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	[ "$(grep -c "control: refused a connection of uid 65534" "$tmp/a.log")" = 1 ] ||
		fail "refusals not logged once: $(grep -c refused "$tmp/a.log")"
fi
expect 1 "$ctl" -s "$sock" loglevel loud
has "$tmp/err" "usage: loglevel"

# --- clean shutdown --------------------------------------------------------
kill -TERM "$apid"
rc=0
wait "$apid" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"
[ -e "$sock" ] && fail "socket left after a clean shutdown"
has "$tmp/a.log" "shutting down"

# --- a crash leaves a stale socket; the next start replaces it --------------
start f "$data" "$sock"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
[ -S "$sock" ] || fail "kill -9 should have left the socket"
rl="# rate limiting on, with its defaults" start g "$data" "$sock"
has "$tmp/g.log" "removing stale socket $sock"

# --- the default rate limit shows in serverstats ---------------------------
python3 - "$port" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(40):
    req = bytearray(48)
    req[0] = (4 << 3) | 3
    s.sendto(req, ("127.0.0.1", int(sys.argv[1])))
time.sleep(0.3)
EOF
expect 0 "$ctl" -s "$sock" -o json serverstats
python3 - "$tmp/out" <<'EOF' || fail "rate limit counters: $(cat "$tmp/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["received"] == 40, r
# burst 8, then over the limit cycles of leak / KoD / drop / drop
assert r["kod_sent"] >= 1 and r["dropped"]["ratelimit"] >= 1, r
assert r["rate_limited"] == r["kod_sent"] + r["dropped"]["ratelimit"], r
assert r["replied"] + r["dropped"]["ratelimit"] == 40, r
assert r["rate_limited_answered"] >= 1, r
EOF
kill -TERM "$pid"
wait "$pid" || fail "g did not exit cleanly"

# --- no listen line: the wildcards, on the port of the `port` directive -----
# A random port below the ephemeral range (both families need the same one),
# retried if taken.
for try in $(seq 10); do
	wport=$((12000 + RANDOM % 20000))
	cat >"$tmp/w.conf" <<EOF
port $wport
local stratum 10
datadir $tmp/data-w
control $tmp/w.sock
EOF
	"${nocap[@]}" "$node" run -c "$tmp/w.conf" >"$tmp/w.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	up=0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		if "$ctl" -s "$tmp/w.sock" serverstats >/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 0.05
	done
	[ "$up" = 1 ] && break
	wait "$pid" 2>/dev/null || true
	grep -q "cannot bind" "$tmp/w.log" || fail "wildcard node: $(cat "$tmp/w.log")"
	[ "$try" = 10 ] && fail "no free port for the wildcard node"
done
has "$tmp/w.log" "serving NTP on 0.0.0.0:$wport"
v6=1
grep -q "IPv6 not available" "$tmp/w.log" && v6=0
python3 - "$wport" "$v6" <<'EOF' || fail "wildcard node did not answer on both families"
import socket, sys
port = int(sys.argv[1])
fams = [(socket.AF_INET, "127.0.0.1")]
if sys.argv[2] == "1":
    fams.append((socket.AF_INET6, "::1"))
for fam, host in fams:
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    req = bytearray(48)
    req[0] = (4 << 3) | 3
    s.sendto(req, (host, port))
    data, src = s.recvfrom(1024)
    assert len(data) == 48 and data[0] & 7 == 4, host
    assert src[0] == host, "reply from %s, asked %s" % (src[0], host)
EOF
kill -TERM "$pid"
wait "$pid" || fail "wildcard node did not exit cleanly"
echo "ok"
