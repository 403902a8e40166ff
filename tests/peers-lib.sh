# Sourced by the interop tests and the benchmarks: start ntpnode, chronyd
# and echoresp on loopback, without CAP_SYS_TIME, in a temp dir, on a free
# port, and stop them again by PID. Callers set PEERS (the root that
# tests/fetch-peers.sh unpacked) and TMP (their mktemp -d).
# shellcheck shell=bash

LIB_PIDS=()
# Prefix for the daemons started here, e.g. LIB_WRAP=(taskset -c 1).
LIB_WRAP=()

# Daemons run without CAP_SYS_TIME: no test may step or slew this machine's
# clock, whatever the daemon's config says. An array, not a function, so that
# `"${NOPRIV[@]}" daemon &` execs the daemon itself and $! is its PID.
NOPRIV=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)

lib_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Exits 77 (ctest's skip) when the unpacked peers are missing.
peers_require() {
	local f
	for f in usr/sbin/chronyd usr/bin/chronyc usr/bin/ntpdig usr/bin/sntp; do
		if [ ! -e "$PEERS/$f" ]; then
			echo "SKIP: $PEERS/$f missing (run tests/fetch-peers.sh)"
			exit 77
		fi
	done
}

# ntpdig/sntp are Python: point them at the unpacked library and libntpc.
peers_python_env() {
	export PYTHONPATH="$PEERS/usr/lib/python3/dist-packages"
	export LD_LIBRARY_PATH="$PEERS/usr/lib/x86_64-linux-gnu/ntp"
}

lib_stop_all() {
	local p
	for p in "${LIB_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${LIB_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	LIB_PIDS=()
}

lib_stop() {
	local pid=$1 p keep=()
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${LIB_PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	LIB_PIDS=("${keep[@]}")
}

# Below the kernel's ephemeral range (32768-60999 by default): a port picked
# there can be taken as the source port of an outgoing connection (members
# dial each other) between the pick and the bind.
random_port() {
	echo $((12000 + RANDOM % 20000))
}

# udp_owned_by PID PORT: PID has a UDP socket bound to PORT (so a test
# never talks to somebody else's server that happens to hold the port).
udp_owned_by() {
	local out
	out=$(ss -Huanp "sport = :$2" 2>/dev/null) || return 1
	[[ "$out" == *"pid=$1,"* ]]
}

# wait_bound PID PORT: up to 10 s for PID to bind PORT; fails if PID exits.
wait_bound() {
	for _ in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 1
		udp_owned_by "$1" "$2" && return 0
		sleep 0.05
	done
	return 1
}

# start_ntpnode NTPNODE DIR [CONF_LINES...]: ntpnode serving on 127.0.0.1
# at a free port with `local stratum 10`; sets NTPNODE_PID and NTP_PORT.
# DIR gets ntpnode.conf, data/, ctl.sock and ntpnode.log.
start_ntpnode() {
	local bin=$1 dir=$2 line
	shift 2
	mkdir -p "$dir/data"
	for _ in 1 2 3 4 5; do
		NTP_PORT=${FORCE_PORT:-$(random_port)}
		{
			echo "listen 127.0.0.1 port $NTP_PORT"
			echo "local stratum 10"
			echo "discipline virtual"
			echo "datadir $dir/data"
			echo "control $dir/ctl.sock"
			for line in "$@"; do
				echo "$line"
			done
		} >"$dir/ntpnode.conf"
		"${LIB_WRAP[@]}" "${NOPRIV[@]}" "$bin" run -c "$dir/ntpnode.conf" >>"$dir/ntpnode.log" 2>&1 &
		NTPNODE_PID=$!
		LIB_PIDS+=("$NTPNODE_PID")
		wait_bound "$NTPNODE_PID" "$NTP_PORT" && return 0
		# Most likely the port was taken: ntpnode refuses to start then.
		lib_stop "$NTPNODE_PID"
	done
	cat "$dir/ntpnode.log" >&2
	lib_fail "ntpnode did not start"
}

# start_chronyd_server DIR: chronyd as a `local stratum 10` server on
# 127.0.0.1 at a free port; sets CHRONYD_PID and NTP_PORT.
start_chronyd_server() {
	local dir=$1
	mkdir -p "$dir"
	chmod 700 "$dir"
	for _ in 1 2 3 4 5; do
		NTP_PORT=${FORCE_PORT:-$(random_port)}
		cat >"$dir/chrony.conf" <<-EOF
		port $NTP_PORT
		bindaddress 127.0.0.1
		cmdport 0
		local stratum 10
		allow 127.0.0.1
		pidfile $dir/chronyd.pid
		bindcmdaddress $dir/chronyd.sock
		EOF
		"${LIB_WRAP[@]}" "${NOPRIV[@]}" "$PEERS/usr/sbin/chronyd" -x -d -u root -f "$dir/chrony.conf" \
			>>"$dir/chronyd.log" 2>&1 &
		CHRONYD_PID=$!
		LIB_PIDS+=("$CHRONYD_PID")
		wait_bound "$CHRONYD_PID" "$NTP_PORT" && return 0
		lib_stop "$CHRONYD_PID"
	done
	cat "$dir/chronyd.log" >&2
	lib_fail "chronyd did not start"
}

# start_echoresp ECHORESP DIR: sets ECHO_PID and NTP_PORT.
start_echoresp() {
	"${LIB_WRAP[@]}" "$1" -p 0 >"$2/echoresp.out" &
	ECHO_PID=$!
	LIB_PIDS+=("$ECHO_PID")
	for _ in $(seq 100); do
		NTP_PORT=$(awk '$1=="port"{print $2}' "$2/echoresp.out" 2>/dev/null || true)
		[ -n "$NTP_PORT" ] && return 0
		sleep 0.05
	done
	lib_fail "echoresp did not start"
}
