#!/usr/bin/env bash
# cloud-in-a-box: N "VMs" as network namespaces on one machine, joined by a
# shared "internet" namespace that also runs simulated upstream NTP servers
# (ntpsim); real WireGuard (wireguard-go) in every VM; ntpnode builds the
# WireGuard mesh from the cluster membership and serves NTP.
#
#   tools/cloud-in-a-box.sh [-n N] [-b BUILD_DIR] [-k] [-s SCENARIO]
#     -n N      VMs (default 3, at most 9)
#     -b DIR    build tree with node/ntpnode, tools/ntpsim, tools/ntpprobe,
#               tools/ntpctl (default build/release)
#     -k        keep the work dir (logs) after the run
#     -s FILE   a scenario (tests/e2e/rotation-week.sh), sourced at the
#               start: cib_conf_extra I prints more config lines for VM I,
#               cib_scenario runs once the VMs serve NTP over the mesh,
#               instead of the leader kill and re-address checks
#
# Layout (everything exists only inside the namespaces made here):
#   internet ns: 10.250.0.1-3 on lo (ntpsim upstreams, port 123), and one
#                veth per VM, 10.250.I.1/24, forwarding between them
#   VM I:        veth 10.250.I.2/24 (its "public" address), default route
#                to the internet ns, a wireguard-go interface (empty: ntpnode
#                configures it: `wireguard-interface` in its config)
#
# What happens: VM 1 runs `ntpnode init` (default overlay subnet
# 192.168.10.0/24, it takes 192.168.10.1), the others `ntpnode join` with a
# token naming VM 1's public address; the leader allocates each joiner's
# overlay address, every member applies the mesh (wg syncconf) from the
# membership and raft runs over the overlay. Checks, in order: every member
# a voter, NTP served on every VM's public address and over the overlay,
# the same mesh hash on every member from every VM's cluster status; leader
# kill -> a new leader over the mesh; a VM whose public address changes
# (re-addressed veth, wireguard-go and ntpnode restarted with the new
# wireguard-endpoint: a VM stop/start)
# re-announces its endpoint: the mesh hash changes on every member, equal
# everywhere, and the VM is reachable over the overlay again.
# Needs root (namespaces). Exit 0 ok, 1 failure, 77 cannot run here.
# Everything it creates it deletes, by PID and by name, also on failure.
set -euo pipefail

n=3
build=build/release
keep=0
scenario=
while getopts "n:b:ks:" o; do
	case $o in
	n) n=$OPTARG ;;
	b) build=$OPTARG ;;
	k) keep=1 ;;
	s) scenario=$OPTARG ;;
	*) sed -n '2,16p' "$0" >&2; exit 2 ;;
	esac
done
case $n in [2-9]) ;; *) echo "cloud-in-a-box: -n takes 2..9" >&2; exit 2 ;; esac

node=$build/node/ntpnode
sim=$build/tools/ntpsim
probe=$build/tools/ntpprobe
ctlbin=$build/tools/ntpctl
for b in "$node" "$sim" "$probe" "$ctlbin"; do
	[ -x "$b" ] || { echo "cloud-in-a-box: $b not built" >&2; exit 1; }
done
skip() { echo "cloud-in-a-box: SKIP: $*" >&2; exit 77; }
if [ -n "$scenario" ]; then
	# shellcheck disable=SC1090
	. "$scenario"
fi
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip wg wireguard-go setpriv jq; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done

# Names unique per run: wireguard-go's control socket lives in the shared
# /var/run/wireguard/NAME.sock, so even the wg names must not collide.
tag=$(printf '%04x%02x' $((RANDOM)) $(($$ % 256)))
inet="cib${tag}i"
work=$(mktemp -d /tmp/ntpmc-cib.XXXXXX)
declare -a pids=() nss=() wgs=()
t0=$(date +%s.%N)
# wireguard-go makes /var/run/wireguard when it is missing: removed again
# (when empty: another user's sockets stay) if it was not there before
wgdir_existed=0
[ -d /var/run/wireguard ] && wgdir_existed=1

log() { echo "[$(date -u +%H:%M:%S.%3N)] $*" >&2; }
elapsed() { awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }'; }

cleanup() {
	local p ns w
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	# safety net: whatever still runs inside our namespaces is ours
	for ns in "${nss[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null || true
		done
	done
	for ns in "${nss[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	for w in "${wgs[@]}"; do
		rm -f "/var/run/wireguard/$w.sock"
	done
	[ "$wgdir_existed" = 1 ] || rmdir /var/run/wireguard 2>/dev/null || true
	if [ "$keep" = 1 ]; then
		echo "cloud-in-a-box: logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	log "FAIL: $*"
	local f
	for f in "$work"/*.log; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

# Never background this function: $! would be a subshell's PID, not the
# program's (ip netns exec and setpriv exec, so backgrounding them directly
# gives the program's own PID).
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
vm() { echo "cib${tag}v$1"; }

# --- the internet and the VMs ---------------------------------------------
ip netns add "$inet" 2>/dev/null || skip "cannot create a network namespace"
nss+=("$inet")
ip -n "$inet" link set lo up
inns "$inet" sysctl -qw net.ipv4.ip_forward=1
for a in 1 2 3; do
	ip -n "$inet" addr add "10.250.0.$a/32" dev lo
done

for i in $(seq "$n"); do
	ns=$(vm "$i")
	ip netns add "$ns"
	nss+=("$ns")
	ip -n "$ns" link set lo up
	# both ends are born inside our namespaces, never in the host's
	ip -n "$inet" link add "cib${tag}e$i" type veth peer name eth0 \
		netns "$ns"
	ip -n "$inet" addr add "10.250.$i.1/24" dev "cib${tag}e$i"
	ip -n "$inet" link set "cib${tag}e$i" up
	ip -n "$ns" addr add "10.250.$i.2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "10.250.$i.1"
done
log "namespaces up ($n VMs + internet)"

# --- simulated upstreams in the internet ----------------------------------
ip netns exec "$inet" "$sim" --seed 1 -s 10.250.0.1,port=123 \
	-s 10.250.0.2,port=123 -s 10.250.0.3,port=123 \
	>"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 50); do
	grep -q '^ready' "$work/sim.out" && break
	sleep 0.1
done
grep -q '^ready' "$work/sim.out" || fail "ntpsim did not start"

# --- per VM: wireguard-go (an empty interface), ntpnode's config ----------
declare -a wgpid=()
start_wg() {
	# -f: stay in the foreground so that the PID is wireguard-go's
	ip netns exec "$(vm "$1")" wireguard-go -f "wg${tag}$1" \
		>>"$work/wg$1.log" 2>&1 &
	wgpid[$1]=$!
	pids+=($!)
}
wait_wg() {
	for _ in $(seq 50); do
		ip -n "$(vm "$1")" link show "wg${tag}$1" >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	fail "wireguard-go did not create wg${tag}$1"
}
for i in $(seq "$n"); do
	wgs+=("wg${tag}$i")
	start_wg "$i"
done
for i in $(seq "$n"); do
	wait_wg "$i"
done

# write_conf I PUBLIC_HOST: VM I's config. NTP on the wildcard (its public
# address may change); cluster-listen on the wildcard too: the overlay
# address does not exist before ntpnode applies the mesh, and joiners dial
# the public address the token names.
write_conf() {
	cat >"$work/node$1.conf" <<CONF
node-name vm$1
upstream 10.250.0.1 iburst
upstream 10.250.0.2 iburst
upstream 10.250.0.3 iburst
discipline virtual
serve-threads 1
ratelimit off
datadir $work/data$1
control $work/ctl$1.sock
cluster-listen 0.0.0.0 port 4460
cluster-advertise $2
wireguard-interface wg${tag}$1 port 51820
wireguard-endpoint $2:51820
provider ${CIB_PROVIDER:-other}
region box
CONF
	if declare -F cib_conf_extra >/dev/null; then
		cib_conf_extra "$1" >>"$work/node$1.conf"
	fi
}

# start_node I CMD [ARGS...]: ntpnode CMD in VM I, without CAP_SYS_TIME (this
# machine's clock is never touched); its PID is recorded in npid[I].
declare -a npid=()
start_node() {
	local i=$1
	shift
	ip netns exec "$(vm "$i")" setpriv --bounding-set=-sys_time \
		--inh-caps=-sys_time "$node" "$@" -c "$work/node$i.conf" \
		>"$work/node$i.out" 2>>"$work/node$i.log" &
	npid[i]=$!
	pids+=($!)
}
stop_node() {
	kill "${npid[$1]}" 2>/dev/null || true
	wait "${npid[$1]}" 2>/dev/null || true
}
ctl() { local i=$1; shift; timeout 5 "$ctlbin" -s "$work/ctl$i.sock" "$@"; }
status() { ctl "$1" -o json cluster status 2>/dev/null; }
for i in $(seq "$n"); do
	mkdir -p "$work/data$i"
	write_conf "$i" "10.250.$i.2"
done

# --- the cluster over the mesh: init on VM 1, join on the others -----------
start_node 1 init
for _ in $(seq 100); do
	[ -S "$work/ctl1.sock" ] && break
	sleep 0.1
done
[ -n "$(tail -n 1 "$work/node1.out")" ] || fail "init printed no token"
# init's token is single-use: one token for every joiner instead
token=$(ctl 1 token create --uses $((n - 1))) || fail "token create on VM 1"
(umask 077 && printf '%s\n' "$token" >"$work/token")
for i in $(seq 2 "$n"); do
	start_node "$i" join --token-file "$work/token"
done

# ntp_ok NS ADDR: one answer with LI != 3 (synchronized) within 1 s
# (--interval: ntpprobe sleeps one interval after its last query)
ntp_ok() {
	local line
	line=$(inns "$1" "$probe" -a "$2" -p 123 --count 1 --timeout 1 \
		--interval 0.01 \
		2>/dev/null | head -n 1) || return 1
	local -a f
	read -r -a f <<<"$line"
	[ "${#f[@]}" -ge 5 ] && [ "${f[2]}" != 3 ]
}

# wait_all DESC SECS CHECK...: polls until every VM passes CHECK VM_INDEX
wait_all() {
	local desc=$1 secs=$2 i ok end
	shift 2
	end=$(($(date +%s) + secs))
	while :; do
		ok=1
		for i in $(seq "$n"); do
			"$@" "$i" || { ok=0; break; }
		done
		[ $ok = 1 ] && return 0
		[ "$(date +%s)" -lt "$end" ] || fail "$desc: VM $i not there after ${secs}s"
		sleep 0.2
	done
}
voters() {
	status "$1" | jq '[.members[] | select(.role == "voter")] | length' \
		2>/dev/null || echo 0
}
all_voters() { [ "$(voters "$1")" = "$n" ]; }
# overlay I: VM I's overlay address, from the membership (its raft address)
overlay() {
	status 1 | jq -r '.members[] | select(.name == "vm'"$1"'") |
		.address | sub(":[0-9]+$"; "")' 2>/dev/null
}
# mesh_of I: the one mesh hash every member reports in VM I's status ("" if
# some member has none yet or they differ)
mesh_of() {
	status "$1" | jq -r --argjson n "$n" '[.members[].mesh] |
		if length == $n and all(. != null) and (unique | length) == 1
		then .[0] else "" end' 2>/dev/null
}
public_ntp() { ntp_ok "$inet" "10.250.$1.2"; }
# VM I asks the next VM's ntpnode through the WireGuard overlay
overlay_ntp() {
	local j=$(($1 % n + 1))
	ntp_ok "$(vm "$1")" "${ov[j]}"
}
same_mesh() { local m; m=$(mesh_of "$1"); [ -n "$m" ] && [ "$m" = "$want_mesh" ]; }

wait_all "cluster status with every voter" 30 all_voters
log "$n voters at $(elapsed) s"
declare -a ov=()
for i in $(seq "$n"); do
	ov[i]=$(overlay "$i")
	[ -n "${ov[i]}" ] || fail "VM $i has no overlay address"
done
wait_all "NTP on the public address" 30 public_ntp
log "NTP served (LI != 3) on every public address at $(elapsed) s"
wait_all "NTP over the overlay" 15 overlay_ntp
t_ready=$(elapsed)
log "$n voters serving NTP over WireGuard: $t_ready s from nothing (overlays ${ov[*]})"

want_mesh=$(mesh_of 1)
[ -n "$want_mesh" ] || {
	sleep 1
	want_mesh=$(mesh_of 1)
}
[ -n "$want_mesh" ] || fail "members report different or no mesh hashes"
wait_all "the same mesh hash from every VM's status" 10 same_mesh
mesh1=$want_mesh
for i in $(seq "$n"); do
	[ "$(inns "$(vm "$i")" wg show "wg${tag}$i" peers | wc -l)" = \
		$((n - 1)) ] || fail "VM $i: wg show lacks peers"
done
log "mesh $mesh1 on every member (wg show: $((n - 1)) peers each)"
# the subnet is recorded at init and fixed: config set refuses it
ctl 1 config get overlay-subnet | grep -q '192.168.10.0/24' ||
	fail "overlay-subnet is not recorded"
if out=$(ctl 2 config set overlay-subnet 10.99.0.0/16 2>&1); then
	fail "config set overlay-subnet was accepted"
fi
echo "$out" | grep -q "fixed when the cluster is made" ||
	fail "config set overlay-subnet: unexpected answer: $out"
ctl 1 cluster status >&2 || true

if declare -F cib_scenario >/dev/null; then
	cib_scenario
	exit 0
fi

# --- leader kill -> a new leader over the mesh -----------------------------
leader_of() { status "$1" | jq -r '.leader_id // empty' 2>/dev/null; }
old=$(leader_of 1)
li=0
for i in $(seq "$n"); do
	status "$i" | jq -e '.members[] | select(.is_leader and .name == "vm'"$i"'")' \
		>/dev/null 2>&1 && li=$i
done
[ "$li" != 0 ] || fail "no member says it is the leader"
t_kill=$(elapsed)
kill -9 "${npid[li]}"
wait "${npid[li]}" 2>/dev/null || true
new_leader() {
	[ "$1" = "$li" ] && return 0
	local l
	l=$(leader_of "$1")
	[ -n "$l" ] && [ "$l" != "$old" ]
}
wait_all "a new leader after killing VM $li's" 15 new_leader
t_new=$(awk -v a="$(elapsed)" -v b="$t_kill" 'BEGIN { printf "%.1f", a - b }')
log "VM $li (leader) killed: new leader after $t_new s (status poll every 0.2 s)"
start_node "$li" run
all_reachable() {
	[ "$(status "$1" | jq '[.members[] | select(.reachable)] | length' \
		2>/dev/null)" = "$n" ]
}
wait_all "every member reachable after the restart" 20 all_reachable

# --- a VM gets a new public address (stop/start in a cloud) ----------------
# The whole VM restarts: ntpnode and wireguard-go (a new, empty interface):
# ntpnode applies the mesh it saved before its log is replayed.
i=$n
stop_node "$i"
kill "${wgpid[i]}"
wait "${wgpid[i]}" 2>/dev/null || true
start_wg "$i"
wait_wg "$i"
ns=$(vm "$i")
ip -n "$ns" addr flush dev eth0
ip -n "$ns" addr add "10.250.$i.3/24" dev eth0
ip -n "$ns" route replace default via "10.250.$i.1"
write_conf "$i" "10.250.$i.3"
t_readdr=$(elapsed)
start_node "$i" run
# it re-announces its endpoint: a new membership record, which every member
# applies (wg syncconf changes only that peer)
changed_mesh() {
	local m
	m=$(mesh_of "$1")
	[ -n "$m" ] && [ "$m" != "$mesh1" ] && { [ -z "$want_mesh" ] || [ "$m" = "$want_mesh" ]; }
}
want_mesh=""
wait_all "a new mesh hash after re-addressing VM $i" 20 changed_mesh
want_mesh=$(mesh_of 1)
wait_all "the same new mesh hash from every VM's status" 10 same_mesh
for j in $(seq "$n"); do
	[ "$j" = "$i" ] && continue
	inns "$(vm "$j")" wg show "wg${tag}$j" endpoints |
		grep -q "10.250.$i.3:51820" ||
		fail "VM $j does not use VM $i's new endpoint"
done
wait_all "NTP over the overlay after re-addressing" 15 overlay_ntp
ntp_ok "$inet" "10.250.$i.3" || fail "no NTP on VM $i's new public address"
wait_all "every member reachable after the re-address" 20 all_reachable
log "VM $i re-addressed: endpoint re-announced, mesh $mesh1 -> $want_mesh on every member in $(awk -v a="$(elapsed)" -v b="$t_readdr" 'BEGIN { printf "%.1f", a - b }') s, NTP over the overlay again"
ctl 1 cluster status >&2 || true

echo "cloud-in-a-box: OK: $n VMs, $n voters serving NTP over WireGuard $t_ready s from nothing; leader kill -> new leader $t_new s; total $(elapsed) s"
