# Sourced by the time-engine integration tests: ntpsim upstreams on a random
# 127.R.R.x network and ntpnode (discipline virtual, no CAP_SYS_TIME)
# syncing from them. Callers set NTPNODE NTPCTL NTPSIM NTPPROBE and TMP.
# shellcheck shell=bash
# shellcheck source=tests/peers-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../peers-lib.sh"

dump_logs() {
	local f
	for f in "$TMP"/*.log "$TMP"/sim.err; do
		[ -e "$f" ] || continue
		echo "--- $f" >&2
		tail -n 60 "$f" >&2
	done
}

tfail() {
	dump_logs
	lib_fail "$@"
}

# start_sim ARGS...: ntpsim with servers "$NET.11,..." etc. given as -s
# specs using @ for the network prefix; sets NET, SIM_PID.
start_sim() {
	local try specs=() s
	for try in 1 2 3 4 5; do
		NET="127.$((RANDOM % 240 + 5)).$((RANDOM % 250 + 2))"
		specs=()
		for s in "$@"; do
			specs+=("${s//@/$NET}")
		done
		"$NTPSIM" --status "$TMP/sim.status" "${specs[@]}" \
			>"$TMP/sim.out" 2>"$TMP/sim.err" &
		SIM_PID=$!
		LIB_PIDS+=("$SIM_PID")
		for _ in $(seq 50); do
			grep -q '^ready' "$TMP/sim.out" && return 0
			kill -0 "$SIM_PID" 2>/dev/null || break
			sleep 0.1
		done
		lib_stop "$SIM_PID"
		echo "ntpsim did not start on $NET (try $try)" >&2
	done
	tfail "ntpsim never started"
}

sim_port() {
	awk -v a="$1" '$1 == "server" && $2 == a { print $3 }' "$TMP/sim.out"
}

# start_node NAME CONF_LINES...: ntpnode NAME serving on $NET.3 (random
# port); sets NODE_PID, NODE_PORT, NODE_CTL.
start_node() {
	local name=$1 dir line
	shift
	dir=$TMP/$name
	mkdir -p "$dir/data"
	for _ in 1 2 3 4 5; do
		NODE_PORT=$(random_port)
		{
			echo "listen $NET.3 port $NODE_PORT"
			echo "discipline virtual"
			echo "datadir $dir/data"
			echo "control $dir/ctl.sock"
			for line in "$@"; do
				echo "$line"
			done
		} >"$dir/ntpnode.conf"
		"${NOPRIV[@]}" "$NTPNODE" run -c "$dir/ntpnode.conf" \
			>>"$TMP/$name.log" 2>&1 &
		NODE_PID=$!
		LIB_PIDS+=("$NODE_PID")
		NODE_CTL=$dir/ctl.sock
		wait_bound "$NODE_PID" "$NODE_PORT" && return 0
		lib_stop "$NODE_PID"
	done
	tfail "ntpnode $name did not start"
}

ctl() {
	"$NTPCTL" -s "$NODE_CTL" "$@"
}

# json_get FILE PYEXPR: evaluate a Python expression on the parsed JSON j.
json_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
