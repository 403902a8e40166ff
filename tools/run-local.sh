#!/usr/bin/env bash
# The README's main command: takes a fresh Debian 12 machine (as root) to a
# local ntpnode serving NTP on loopback, and tells how to query it.
#   tools/run-local.sh          install deps, build Release, start the node
#   tools/run-local.sh stop     stop what it started (by the recorded PID)
#   tools/run-local.sh status   is it running, and its counters
# Everything lives in build/local/: the config, datadir, control socket,
# log and PID file. The node runs without CAP_SYS_TIME and with the virtual
# discipline: it never changes this machine's clock.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
state=$top/build/local
build=$top/build/release
port=${NTPMC_LOCAL_PORT:-11123}

# One node for now (issue 2). The cluster (issue 4) adds members here: each
# member's files are named by node_dir/node_* so that a loop can start them.
nodes=(node)

node_dir() { echo "$state"; }
node_pidfile() { echo "$(node_dir "$1")/ntpnode.pid"; }
node_sock() { echo "$(node_dir "$1")/ctl.sock"; }

# node_pid NAME: prints the PID if that ntpnode is running.
node_pid() {
	local f pid
	f=$(node_pidfile "$1")
	[ -f "$f" ] || return 1
	pid=$(<"$f")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	# The PID may have been reused since: check it is still ntpnode.
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ntpnode ] || return 1
	echo "$pid"
}

write_conf() {
	local d
	d=$(node_dir "$1")
	mkdir -p "$d/data"
	cat >"$d/ntpnode.conf" <<-EOF
	# Written by tools/run-local.sh: a local node on loopback.
	listen 127.0.0.1 port $port
	local stratum 10
	discipline virtual
	datadir $d/data
	control $(node_sock "$1")
	EOF
}

start_node() {
	local d pid
	d=$(node_dir "$1")
	if pid=$(node_pid "$1"); then
		echo "run-local: $1 already running (PID $pid)"
		return 0
	fi
	write_conf "$1"
	# setpriv execs ntpnode, so $! is the daemon's PID.
	nohup setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$build/node/ntpnode" run -c "$d/ntpnode.conf" \
		</dev/null >>"$d/ntpnode.log" 2>&1 &
	echo $! >"$(node_pidfile "$1")"
}

# wait_serving NAME: up to 10 s for one valid NTP reply.
wait_serving() {
	local pid
	for _ in $(seq 50); do
		if ! pid=$(node_pid "$1"); then
			echo "run-local: ntpnode exited; its log:" >&2
			tail -n 20 "$(node_dir "$1")/ntpnode.log" >&2
			return 1
		fi
		# Our PID must hold the port: a reply could come from somebody
		# else's server if ours failed to bind.
		if [[ "$(ss -Huanp "sport = :$port" 2>/dev/null)" == *"pid=$pid,"* ]] &&
			"$build/tools/ntpbench" -p "$port" -n 1 -t 200 >/dev/null 2>&1; then
			echo "run-local: ntpnode (PID $pid) serves NTP on 127.0.0.1:$port"
			return 0
		fi
		sleep 0.2
	done
	echo "run-local: no NTP reply from 127.0.0.1:$port within 10 s" >&2
	return 1
}

stop_node() {
	local pid
	if ! pid=$(node_pid "$1"); then
		echo "run-local: $1 not running"
		rm -f "$(node_pidfile "$1")"
		return 0
	fi
	kill "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "run-local: PID $pid did not stop within 10 s" >&2
		return 1
	fi
	rm -f "$(node_pidfile "$1")"
	echo "run-local: stopped $1 (PID $pid)"
}

print_usage_hints() {
	local rel=${build#"$top"/}
	cat <<-EOF

	Query it:
	  $rel/tools/ntpbench -p $port -n 1            # one request, validated
	  $rel/tools/ntpbench -p $port -d 3            # 3 s of load
	Read its counters:
	  $rel/tools/ntpctl -s ${state#"$top"/}/ctl.sock serverstats
	  $rel/tools/ntpctl -s ${state#"$top"/}/ctl.sock -o json serverstats
	Log: ${state#"$top"/}/ntpnode.log    Stop: tools/run-local.sh stop
	EOF
}

case "${1:-start}" in
start)
	if [ "$(id -u)" -eq 0 ]; then
		tools/install-deps.sh
	else
		echo "run-local: not root, not installing dependencies"
	fi
	echo "run-local: building Release in ${build#"$top"/}"
	CC=${CC:-gcc} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$build" -j"$(nproc)" >/dev/null
	mkdir -p "$state"
	for n in "${nodes[@]}"; do
		start_node "$n"
		wait_serving "$n" || { stop_node "$n" >/dev/null; exit 1; }
	done
	print_usage_hints
	;;
stop)
	rc=0
	for n in "${nodes[@]}"; do
		stop_node "$n" || rc=1
	done
	exit $rc
	;;
status)
	for n in "${nodes[@]}"; do
		if pid=$(node_pid "$n"); then
			echo "run-local: $n running (PID $pid), 127.0.0.1:$port"
			"$build/tools/ntpctl" -s "$(node_sock "$n")" serverstats || true
		else
			echo "run-local: $n not running"
		fi
	done
	;;
*)
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
