#!/usr/bin/env bash
# cloud-in-a-box: N "VMs" as network namespaces on one machine, joined by a
# shared "internet" namespace that also runs simulated upstream NTP servers
# (ntpsim); real WireGuard (wireguard-go) in every VM; ntpnode serving NTP.
#
#   tools/cloud-in-a-box.sh [-n N] [-b BUILD_DIR] [-k]
#     -n N      VMs (default 3, at most 9)
#     -b DIR    build tree with node/ntpnode, tools/ntpsim, tools/ntpprobe,
#               tests/e2e/wgmesh_apply (default build/release)
#     -k        keep the work dir (logs) after the run
#
# Layout (everything exists only inside the namespaces made here):
#   internet ns: 10.250.0.1-3 on lo (ntpsim upstreams, port 123), and one
#                veth per VM, 10.250.I.1/24, forwarding between them
#   VM I:        veth 10.250.I.2/24 (its "public" address), default route
#                to the internet ns, wireguard-go interface with the overlay
#                address from the membership (192.168.10.0/24)
#
# Checks, in order: NTP served on every VM's public address (queried from
# the internet ns); the mesh rendered from one membership has the same hash
# on every VM, `wg show` lists N-1 peers, every VM answers NTP over the
# overlay; a VM whose public address changes re-announces its endpoint (a
# new membership record), every VM re-applies, the mesh works again.
#
# The membership is built by tests/e2e/wgmesh_apply exactly as the leader
# records it (overlay allocation, keys, endpoints): cluster init/join over
# the mesh comes with the cluster glue (docs/operations.md says what is
# wired). Needs root (namespaces). Exit 0 ok, 1 failure, 77 cannot run here.
# Everything it creates it deletes, by PID and by name, also on failure.
set -euo pipefail

n=3
build=build/release
keep=0
while getopts "n:b:k" o; do
	case $o in
	n) n=$OPTARG ;;
	b) build=$OPTARG ;;
	k) keep=1 ;;
	*) sed -n '2,12p' "$0" >&2; exit 2 ;;
	esac
done
case $n in [2-9]) ;; *) echo "cloud-in-a-box: -n takes 2..9" >&2; exit 2 ;; esac

node=$build/node/ntpnode
sim=$build/tools/ntpsim
probe=$build/tools/ntpprobe
meshtool=$build/tests/e2e/wgmesh_apply
for b in "$node" "$sim" "$probe" "$meshtool"; do
	[ -x "$b" ] || { echo "cloud-in-a-box: $b not built" >&2; exit 1; }
done
skip() { echo "cloud-in-a-box: SKIP: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip wg wireguard-go setpriv; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done

# Names unique per run: wireguard-go's control socket lives in the shared
# /var/run/wireguard/NAME.sock, so even the wg names must not collide.
tag=$(printf '%04x%02x' $((RANDOM)) $(($$ % 256)))
inet="cib${tag}i"
work=$(mktemp -d /tmp/ntpmc-cib.XXXXXX)
declare -a pids=() nss=() wgs=()
t0=$(date +%s.%N)

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
	for ns in "${nss[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	for w in "${wgs[@]}"; do
		rm -f "/var/run/wireguard/$w.sock"
	done
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
inns "$inet" "$sim" --seed 1 -s 10.250.0.1,port=123 \
	-s 10.250.0.2,port=123,offset=2ms -s 10.250.0.3,port=123,offset=-1ms \
	>"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 50); do
	grep -q '^ready' "$work/sim.out" && break
	sleep 0.1
done
grep -q '^ready' "$work/sim.out" || fail "ntpsim did not start"

# --- per VM: wireguard-go, keys, ntpnode -----------------------------------
members=()
for i in $(seq "$n"); do
	ns=$(vm "$i")
	w="wg${tag}$i"
	wgs+=("$w")
	# -f: stay in the foreground so that the PID is wireguard-go's
	inns "$ns" wireguard-go -f "$w" >"$work/wg$i.log" 2>&1 &
	pids+=($!)
	(umask 077 && wg genkey >"$work/key$i")
	pub=$(wg pubkey <"$work/key$i")
	members+=(--member "$i,$pub,10.250.$i.2:51820")
	mkdir -p "$work/data$i"
	cat >"$work/node$i.conf" <<EOF
# VM $i of cloud-in-a-box: wildcard listen (its public address may change).
# ntpnode run does not start the time engine yet: until it does, the VM
# serves its clock at local stratum 10 (the upstreams below, once enabled,
# replace that line: the two are exclusive).
local stratum 10
# upstream 10.250.0.1 iburst
# upstream 10.250.0.2 iburst
# upstream 10.250.0.3 iburst
discipline virtual
serve-threads 1
ratelimit off
datadir $work/data$i
control $work/ctl$i.sock
EOF
	# no CAP_SYS_TIME: this machine's clock is never touched
	inns "$ns" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$node" run -c "$work/node$i.conf" >"$work/node$i.log" 2>&1 &
	pids+=($!)
done

for i in $(seq "$n"); do
	for _ in $(seq 50); do
		ip -n "$(vm "$i")" link show "wg${tag}$i" >/dev/null 2>&1 &&
			break
		sleep 0.1
	done
	ip -n "$(vm "$i")" link show "wg${tag}$i" >/dev/null 2>&1 ||
		fail "wireguard-go did not create wg${tag}$i"
done

# --- the mesh from the membership -----------------------------------------
apply_all() {
	local i out
	: >"$work/hashes"
	for i in $(seq "$n"); do
		out=$(inns "$(vm "$i")" "$meshtool" --self "$i" \
			--key-file "$work/key$i" --iface "wg${tag}$i" \
			"${members[@]}") || fail "mesh apply on VM $i"
		echo "$out" | sed -n 's/^mesh //p' >>"$work/hashes"
		echo "$out" | sed -n 's/^overlay //p' >"$work/overlay$i"
	done
	[ "$(sort -u "$work/hashes" | wc -l)" = 1 ] ||
		fail "mesh hashes differ: $(cat "$work/hashes")"
	for i in $(seq "$n"); do
		[ "$(inns "$(vm "$i")" wg show "wg${tag}$i" peers | wc -l)" = \
			$((n - 1)) ] || fail "VM $i: wg show lacks peers"
	done
}
apply_all
mesh1=$(head -n 1 "$work/hashes")
log "mesh applied on $n VMs, hash ${mesh1:0:16}..."

# ntp_ok NS ADDR: one answer with LI != 3 (synchronized) within 1 s
ntp_ok() {
	local line
	line=$(inns "$1" "$probe" -a "$2" -p 123 --count 1 --timeout 1 \
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
public_ntp() { ntp_ok "$inet" "10.250.$1.2"; }
# VM I asks the next VM's ntpnode through the WireGuard overlay
overlay_ntp() {
	local j=$(($1 % n + 1))
	ntp_ok "$(vm "$1")" "$(cat "$work/overlay$j")"
}

wait_all "NTP on the public address" 30 public_ntp
log "NTP served (LI != 3) on every public address at $(elapsed) s"
wait_all "NTP over the overlay" 15 overlay_ntp
t_ready=$(elapsed)
log "every VM answers NTP over WireGuard: $t_ready s from nothing"

# --- a VM gets a new public address (stop/start in a cloud) ----------------
i=$n
ns=$(vm "$i")
ip -n "$ns" addr flush dev eth0
ip -n "$ns" addr add "10.250.$i.3/24" dev eth0
ip -n "$ns" route replace default via "10.250.$i.1"
# it re-announces its endpoint: a new membership record for it, which every
# member applies (wg syncconf changes only that peer)
members=()
for j in $(seq "$n"); do
	pub=$(wg pubkey <"$work/key$j")
	a=2
	[ "$j" = "$i" ] && a=3
	members+=(--member "$j,$pub,10.250.$j.$a:51820")
done
apply_all
mesh2=$(head -n 1 "$work/hashes")
[ "$mesh2" != "$mesh1" ] || fail "a changed endpoint did not change the mesh"
for j in $(seq "$n"); do
	[ "$j" = "$i" ] && continue
	inns "$(vm "$j")" wg show "wg${tag}$j" endpoints |
		grep -q "10.250.$i.3:51820" ||
		fail "VM $j does not use VM $i's new endpoint"
done
wait_all "NTP over the overlay after re-addressing" 15 overlay_ntp
ntp_ok "$inet" "10.250.$i.3" || fail "no NTP on VM $i's new public address"
log "VM $i re-addressed: mesh re-applied (hash ${mesh2:0:16}...), NTP over the overlay again"

echo "cloud-in-a-box: OK: $n VMs, NTP over WireGuard $t_ready s from nothing; total $(elapsed) s"
