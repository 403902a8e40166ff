#!/usr/bin/env bash
# Cluster benchmark. Not a ctest: it takes minutes.
#   tests/bench/cluster-bench.sh [all|failover|transfer|join|rss|disk|rolling|backup]
# Env: BUILD (default build/release), TRIALS (default 20), IDLE (seconds of
# idle before reading VmRSS, default 60), WRITES (default 10000).
# Prints one line per figure; targets: new leader p50 <= 1 s,
# p95 <= 2 s; transfer write pause <= 200 ms; join -> voter serving <= 5 s;
# VmRSS <= 10 MB per member; datadir <= 8 MB after 10,000 writes.
# rolling: TRIALS rounds of SIGTERM + restart of every member;
# targets: leaderless <= one election timeout, writes refused <= 200 ms
# per planned handoff.
# backup: BK_WRITES (default 1000) config writes, then TRIALS
# `ntpctl backup` on the leader and on a follower (which asks the leader for
# its commit index first), and TRIALS `ntpnode restore` into an empty
# datadir, each checked for the backup's state hash. No target: figures.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build/release}
export NTPNODE=${NTPNODE:-$BUILD/node/ntpnode}
export NTPCTL=${NTPCTL:-$BUILD/tools/ntpctl}
TRIALS=${TRIALS:-20}
IDLE=${IDLE:-60}
WRITES=${WRITES:-10000}
BK_WRITES=${BK_WRITES:-1000}
what=${1:-all}
# shellcheck source-path=SCRIPTDIR
. "$top/tests/integration/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# median and p95 (nearest rank) of the numbers on stdin
stats() {
	sort -n | awk '{ v[NR] = $1 }
	END { if (!NR) { print "n=0"; exit }
	      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	      r = int(0.95 * NR + 0.999999); if (r < 1) r = 1
	      printf "n=%d median=%d p95=%d max=%d (ms)\n", NR, m, v[r], v[NR] }'
}

start3() {
	local i t
	for i in 1 2 3; do lc_conf "$i"; done
	lc_init 1
	lc_join 2 "$LC_TOKEN"
	t=$(lc_ctl 1 token create)
	lc_join 3 "$t"
	lc_wait_voters 3 30 || lc_fail "3 voters"
}

# One NTP client request; prints LI (0..3) of the reply, fails on timeout.
ntp_li() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
s.sendto(b'\x23' + b'\0' * 47, ('127.0.0.1', int(sys.argv[1])))
d, _ = s.recvfrom(512)
print(d[0] >> 6)
PY
}

bench_failover() {
	local k old new t0 t1 t2 f=$LC_DIR/failover.leader w=$LC_DIR/failover.write
	: >"$f"
	: >"$w"
	for k in $(seq 1 "$TRIALS"); do
		old=$(lc_wait_leader 10) || lc_fail "no leader before trial $k"
		t0=$(now_ms)
		lc_kill9 "$old"
		new=
		while [ -z "$new" ]; do
			for i in 1 2 3; do
				[ "$i" = "$old" ] && continue
				l=$(lc_leader_seen_by "$i") || continue
				[ "$l" != "$old" ] && new=$l && break
			done
			[ $(($(now_ms) - t0)) -gt 20000 ] && lc_fail "no new leader"
		done
		t1=$(now_ms)
		until lc_ctl "$new" config set min-serving $((k % 5 + 1)) \
			2>/dev/null; do
			[ $(($(now_ms) - t0)) -gt 20000 ] && lc_fail "no write"
		done
		t2=$(now_ms)
		echo $((t1 - t0)) >>"$f"
		echo $((t2 - t0)) >>"$w"
		lc_log "trial $k: kill n$old -> leader n$new $((t1 - t0)) ms, write $((t2 - t0)) ms"
		lc_run "$old"
		lc_wait_voters 3 30 || lc_fail "voters after restart"
	done
	echo "failover kill -9 -> new leader: $(stats <"$f")"
	echo "failover kill -9 -> first write accepted: $(stats <"$w")"
}

bench_transfer() {
	local k l target gap p=$LC_DIR/transfer.pause
	: >"$p"
	for k in $(seq 1 "$TRIALS"); do
		l=$(lc_wait_leader 10) || lc_fail "no leader"
		target=$((l % 3 + 1))
		# writer: timestamps of accepted writes, against a follower (it
		# forwards), so the pause seen is the one a client sees
		(
			end=$(($(now_ms) + 1500))
			while [ "$(now_ms)" -lt "$end" ]; do
				lc_ctl "$target" config set token-uses 2 \
					>/dev/null 2>&1 && now_ms
			done
		) >"$LC_DIR/writes" &
		wpid=$!
		sleep 0.5
		lc_ctl "$l" leader transfer "n$target" >/dev/null ||
			lc_log "transfer $k failed"
		wait "$wpid"
		gap=$(awk 'NR > 1 { g = $1 - p; if (g > m) m = g } { p = $1 }
			END { print m + 0 }' "$LC_DIR/writes")
		echo "$gap" >>"$p"
		lc_log "transfer $k n$l -> n$target: longest write gap $gap ms"
	done
	echo "leader transfer write pause (longest gap between accepted writes): $(stats <"$p")"
}

bench_join() {
	local k t t0 t1 i j=$LC_DIR/join.ms li port l
	: >"$j"
	# Two voters, so that each joiner becomes the third (with three the
	# policy keeps a fourth member standby).
	l=$(lc_wait_leader 10) || lc_fail "no leader"
	[ "$l" = 3 ] && { lc_ctl 3 leader transfer >/dev/null; l=$(lc_wait_leader 10); }
	lc_ctl "$l" node remove n3 >/dev/null || lc_fail "remove n3"
	lc_stop 3
	lc_wait_voters 2 30 || lc_fail "2 voters"
	for k in $(seq 1 "$TRIALS"); do
		i=$((10 + k))
		lc_conf "$i"
		t=$(lc_ctl 1 token create)
		port=$(lc_nport "$i")
		t0=$(now_ms)
		lc_join_bg "$i" "$t"
		while :; do
			li=$(ntp_li "$port" 2>/dev/null || echo x)
			if [ "$li" != x ] && [ "$li" != 3 ] &&
				lc_status_json 1 | jq -e --arg n "n$i" \
				'.members[]|select(.name==$n and .role=="voter")' \
				>/dev/null 2>&1; then
				break
			fi
			[ $(($(now_ms) - t0)) -gt 30000 ] && lc_fail "join $k"
			sleep 0.02
		done
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$j"
		lc_log "join $k: $((t1 - t0)) ms"
		# keep 3 voters: remove the joiner again
		l=$(lc_wait_leader 10) || lc_fail "no leader"
		lc_ctl "$l" node remove "n$i" >/dev/null || lc_fail "remove n$i"
		lc_stop "$i"
		rm -rf "$(lc_memdir "$i")"
		lc_wait_voters 2 30 || lc_fail "voters after remove"
	done
	echo "join exec -> voter answering NTP with LI != 3: $(stats <"$j")"
}

bench_rss() {
	local i rss
	lc_log "idle ${IDLE}s"
	sleep "$IDLE"
	for i in 1 2 3; do
		rss=$(awk '/^VmRSS/ { print $2 }' "/proc/${LC_PID[$i]}/status")
		echo "VmRSS n$i after ${IDLE}s idle: $rss kB"
	done
}

bench_disk() {
	local k l
	l=$(lc_wait_leader 10)
	for k in $(seq 1 "$WRITES"); do
		lc_ctl "$l" config set budget-usd "$k" >/dev/null ||
			lc_fail "write $k"
	done
	for i in 1 2 3; do
		echo "datadir n$i after $WRITES config writes: $(du -sk \
			"$(lc_memdir "$i")/data" | cut -f1) kB"
	done
}

# The rolling-restart monitor: one thread asks the running members (not
# the one being restarted, until it is a caught-up voter again) who leads, every ~20 ms (a "leader" view means
# a live leader answered); another tries a config write every ~20 ms.
# Lines: T_MS leader 0|1, T_MS write 0|1 (T_MS: when the probe started).
rolling_monitor() {
	python3 - "$NTPCTL" "$LC_DIR" <<'PY'
import json, os, subprocess, sys, threading, time
ctl, d = sys.argv[1], sys.argv[2]
out = open(os.path.join(d, "rolling.events"), "a", buffering=1)
lock = threading.Lock()
def ms(): return int(time.time() * 1000)
def live():
    try: busy = open(os.path.join(d, "restarting")).read().strip()
    except OSError: busy = ""
    res = []
    for i in (1, 2, 3):
        if str(i) == busy: continue
        try:
            os.kill(int(open(os.path.join(d, "n%d" % i, "pid")).read()), 0)
            res.append(i)
        except (OSError, ValueError): pass
    return res
def ctl_run(i, *args):
    sock = os.path.join(d, "n%d" % i, "ctl.sock")
    try:
        return subprocess.run([ctl, "-s", sock] + list(args), timeout=1,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return None
def emit(t, what, ok):
    with lock: out.write("%d %s %d\n" % (t, what, ok))
def leader_loop():
    while not os.path.exists(os.path.join(d, "rolling.stop")):
        t, ok = ms(), 0
        for i in live():
            r = ctl_run(i, "-o", "json", "cluster", "status")
            try:
                j = json.loads(r.stdout) if r and r.returncode == 0 else {}
            except ValueError:
                j = {}
            if j.get("view") == "leader" and j.get("leader_id"):
                ok = 1
                break
        emit(t, "leader", ok)
        time.sleep(0.02)
def write_loop():
    k = 0
    while not os.path.exists(os.path.join(d, "rolling.stop")):
        t, m = ms(), live()
        k += 1
        r = ctl_run(m[0], "config", "set", "budget-usd", str(k)) if m else None
        emit(t, "write", 1 if r and r.returncode == 0 else 0)
        time.sleep(0.02)
th = [threading.Thread(target=f) for f in (leader_loop, write_loop)]
for x in th: x.start()
for x in th: x.join()
PY
}

# The leader's status says member I votes, is reachable and has no lag.
rolling_caught_up() {
	local l
	l=$(lc_wait_leader 1) || return 1
	lc_status_json "$l" | jq -e --arg n "n$1" '.members[] | select(.name==$n
		and .role=="voter" and .reachable and .log_lag==0)' >/dev/null
}

bench_rolling() {
	local k i l kind ev=$LC_DIR/rolling.events mk=$LC_DIR/rolling.marks et
	et=$(lc_ctl 1 config get election-timeout | awk '{ print $2 }')
	: >"$ev"
	: >"$mk"
	rm -f "$LC_DIR/rolling.stop" "$LC_DIR/restarting"
	rolling_monitor &
	local mpid=$!
	sleep 1
	for k in $(seq 1 "$TRIALS"); do
		for i in 1 2 3; do
			l=$(lc_wait_leader 10) || lc_fail "no leader before n$i"
			kind=follower
			[ "$l" = "$i" ] && kind=leader
			echo "$i" >"$LC_DIR/restarting"
			echo "$(now_ms) term $i $kind" >>"$mk"
			lc_stop "$i"
			echo "$(now_ms) exited $i $kind" >>"$mk"
			lc_run "$i"
			lc_until 30 rolling_caught_up "$i" ||
				lc_fail "n$i not a caught-up voter again"
			# probed again once caught up (a member just started
			# knows no leader until the first heartbeat)
			rm -f "$LC_DIR/restarting"
			echo "$(now_ms) back $i $kind" >>"$mk"
			lc_log "round $k: n$i ($kind) restarted"
		done
	done
	touch "$LC_DIR/rolling.stop"
	wait "$mpid"
	python3 - "$ev" "$mk" "$et" <<'PY'
import sys
ev = [l.split() for l in open(sys.argv[1])]
mk = [l.split() for l in open(sys.argv[2])]
et = int(sys.argv[3])
def longest(kind, a, b):
    """Longest stretch without a positive probe of this kind inside
    [a, b]: from the first negative probe to the next positive one."""
    s = sorted((int(t), int(v)) for t, k, v in ev if k == kind)
    worst, first, n = 0, None, 0
    for t, v in s:
        if t < a: continue
        if v == 0:
            if first is None: first = t
            n += 1
        else:
            if first is not None: worst = max(worst, t - first)
            first = None
            if t > b: break
    return worst, n
def stat(v):
    v = sorted(v)
    if not v: return "n=0"
    m = v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
    return "n=%d median=%d max=%d (ms)" % (len(v), m, v[-1])
res = {"leader": ([], []), "follower": ([], [])}
for i in range(0, len(mk), 3):
    (t0, _, _, kind), (t1, _, _, _), (t2, _, _, _) = mk[i:i + 3]
    nl, _ = longest("leader", int(t0), int(t2))
    wr, _ = longest("write", int(t0), int(t2))
    res[kind][0].append(nl)
    res[kind][1].append(wr)
probes = {k: sum(1 for e in ev if e[1] == k) for k in ("leader", "write")}
print("election-timeout %d ms; probes: %d leader, %d write" %
      (et, probes["leader"], probes["write"]))
for kind in ("leader", "follower"):
    print("rolling restart, %s restarted: longest time without a leader: %s"
          % (kind, stat(res[kind][0])))
    print("rolling restart, %s restarted: longest run of refused writes: %s"
          % (kind, stat(res[kind][1])))
nl = max(res["leader"][0] + res["follower"][0] + [0])
wr = max(res["leader"][1] + [0])
print("targets: leaderless <= %d ms: %s (max %d); refused writes <= 200 ms "
      "per planned handoff: %s (max %d)" % (et, "met" if nl <= et else
      "MISSED", nl, "met" if wr <= 200 else "MISSED", wr))
PY
}

# `ntpctl backup` prints "state hash HASH"; restore prints it twice
# (backup's and the restored FSM's).
bk_hash() { sed -n 's/^state hash *\([0-9a-f]*\).*/\1/p' | head -n 1; }

bench_backup() {
	local k n l f t0 t1 h hr b=$LC_DIR/bench.ntpmcbak
	local bl=$LC_DIR/backup.leader bf=$LC_DIR/backup.follower
	local br=$LC_DIR/backup.restore
	: >"$bl"
	: >"$bf"
	: >"$br"
	l=$(lc_wait_leader 10) || lc_fail "no leader"
	f=2
	[ "$l" = 2 ] && f=3
	lc_log "backup: $BK_WRITES config writes on n$l"
	for n in $(seq 1 "$BK_WRITES"); do
		lc_ctl "$l" config set budget-usd "$n.5" >/dev/null ||
			lc_fail "write $n"
	done
	lc_conf 4
	for k in $(seq 1 "$TRIALS"); do
		t0=$(now_ms)
		lc_ctl "$l" backup --force "$b" >"$LC_DIR/bk.out" || lc_fail "leader backup"
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$bl"
		h=$(bk_hash <"$LC_DIR/bk.out")
		t0=$(now_ms)
		lc_ctl "$f" backup --force "$b" >"$LC_DIR/bk.out" || lc_fail "follower backup"
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$bf"
		[ "$(bk_hash <"$LC_DIR/bk.out")" = "$h" ] ||
			lc_fail "leader and follower backups differ with no write in between"
		rm -rf "$(lc_memdir 4)/data"
		mkdir -m 700 "$(lc_memdir 4)/data"
		t0=$(now_ms)
		"$NTPNODE" restore -c "$(lc_memdir 4)/ntpnode.conf" --from "$b" \
			>"$LC_DIR/rs.out" || lc_fail "restore"
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$br"
		hr=$(grep -c "^state hash $h" "$LC_DIR/rs.out" || true)
		[ "$hr" = 2 ] || lc_fail "restored state hash is not the backup's"
	done
	echo "backup file: $(stat -c %s "$b") bytes after $BK_WRITES writes"
	echo "backup on the leader: $(stats <"$bl")"
	echo "backup on a follower: $(stats <"$bf")"
	echo "restore into an empty datadir: $(stats <"$br")"
}

start3
case $what in
all)
	bench_rss
	bench_failover
	bench_transfer
	bench_join
	bench_disk
	;;
failover | transfer | join | rss | disk | rolling | backup) "bench_$what" ;;
*)
	echo "usage: $0 [all|failover|transfer|join|rss|disk|rolling|backup]" >&2
	exit 2
	;;
esac
