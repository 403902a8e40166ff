#!/usr/bin/env bash
# What a cluster costs in bytes out: a 3-member cluster, each member in its
# own network namespace (a veth to a bridge in a hub namespace), idle but
# for its own cluster traffic, measured from the kernel's tx counters of
# each member's interface. Per member and cluster profile it prints bytes
# and packets per second and the projected MB per 30-day month on the wire,
# (tx bytes + 60 B x tx packets) x 30 days: 60 B is WireGuard's per-packet
# overhead (the members here talk without it). The counters are a veth's,
# so they include a 14-byte Ethernet header per packet: slightly more than
# the IP bytes a cloud bills. What a cloud does not bill stays off the
# link: members know each other's MAC addresses (permanent neighbour
# entries, no ARP) and IPv6 is off on it (no neighbour discovery or
# router solicitations); the cluster speaks IPv4.
#   tests/bench/chatter.sh [-b BUILD] [-d SECONDS] [-p "lan wan"] [-- EXTRA]
# EXTRA: config lines every member gets (e.g. "crosscheck-interval 16").
# Needs root (ip netns). Not a ctest: a benchmark (docs/cost.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build/release
secs=60
profiles="lan wan"
while [ $# -gt 0 ]; do
	case $1 in
	-b) build=$2; shift 2 ;;
	-d) secs=$2; shift 2 ;;
	-p) profiles=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: chatter.sh [-b BUILD] [-d SECONDS] [-p PROFILES] [-- EXTRA]" >&2
	   exit 2 ;;
	esac
done
extra=("$@")
node=$build/node/ntpnode
ctlbin=$build/tools/ntpctl
if [ ! -x "$node" ] || [ ! -x "$ctlbin" ]; then
	echo "chatter: no $node / $ctlbin (build $build first)" >&2
	exit 2
fi
[ "$(id -u)" = 0 ] || { echo "chatter: needs root (ip netns)" >&2; exit 77; }

n=3
# shellcheck source=tests/netns-lib.sh
. tests/netns-lib.sh
work=$(mktemp -d /tmp/ntpmc-chatter.XXXXXX)
NSL_WORK=$work NSL_NODE=$node NSL_CTL=$ctlbin

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
cleanup() {
	local p
	for p in "${NSL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${NSL_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	nsl_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	log "FAIL: $*"
	tail -n 20 "$work"/n*.log >&2 || true
	exit 1
}
vm() { nsl_ns "$1"; }

nsl_setup cht || { echo "chatter: cannot create a namespace" >&2; exit 77; }
for i in $(seq $n); do
	nsl_add "$i" || fail "namespace for member $i"
done
nsl_neigh || fail "neighbour entries"

for i in $(seq $n); do
	mkdir -p "$work/d$i"
	{
		echo "node-name n$i"
		echo "datadir $work/d$i"
		echo "control $work/c$i.sock"
		echo "listen 10.251.0.$i port 123"
		echo "serve-threads 1"
		echo "discipline virtual"
		echo "local stratum 10"
		echo "cluster-listen 10.251.0.$i port 4460"
		echo "provider other"
		local_line=
		for local_line in "${extra[@]}"; do echo "$local_line"; done
	} >"$work/n$i.conf"
done


nsl_form 3 60 || fail "3 voters"
log "3 voters in namespaces; measuring ${secs} s per profile"

counters() { # ns -> "bytes packets"
	nsl_in "$1" cat /sys/class/net/eth0/statistics/tx_bytes \
		/sys/class/net/eth0/statistics/tx_packets | tr '\n' ' '
}
role_of() {
	nsl_ctl "$1" -o json cluster status 2>/dev/null |
		jq -r --arg n "n$1" '.members[]|select(.name==$n)|
			if .is_leader then "leader" else .role end'
}

printf '%-8s %-7s %-8s %10s %9s %14s\n' PROFILE MEMBER ROLE "B/s" "pkt/s" "MB/30d(+WG)"
for prof in $profiles; do
	if [ "$prof" != lan ] || nsl_ctl 1 config get cluster-profile >/dev/null 2>&1; then
		if ! nsl_ctl 1 config set cluster-profile "$prof" >/dev/null 2>&1; then
			log "profile $prof: 'config set cluster-profile $prof' refused: skipped"
			continue
		fi
		sleep 20    # the slower or faster timers settle (a cross-check round of 16 s ends)
	fi
	declare -a b0=() p0=() b1=() p1=()
	for i in $(seq $n); do
		read -r "b0[$i]" "p0[$i]" <<<"$(counters "$(vm "$i")")"
	done
	sleep "$secs"
	for i in $(seq $n); do
		read -r "b1[$i]" "p1[$i]" <<<"$(counters "$(vm "$i")")"
	done
	for i in $(seq $n); do
		awk -v p="$prof" -v m="n$i" -v r="$(role_of "$i")" -v s="$secs" \
			-v db=$((b1[i] - b0[i])) -v dp=$((p1[i] - p0[i])) 'BEGIN {
			bps = db / s; pps = dp / s
			mb = (db + 60 * dp) / s * 86400 * 30 / 1e6
			printf "%-8s %-7s %-8s %10.1f %9.2f %14.1f\n", p, m, r, bps, pps, mb
		}'
	done
done
