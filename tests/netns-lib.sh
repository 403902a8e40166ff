# Sourced by tests and benchmarks that put members in network namespaces
# of their own: a hub namespace holds a bridge, each "host" namespace gets
# a veth to it (eth0, 10.251.0.I/24). What a cloud does not bill stays off
# the link: every host knows every other's MAC address (permanent
# neighbour entries, no ARP) and IPv6 is off (no neighbour discovery or
# router solicitations). Names carry a random tag, unique per run; the
# caller's trap calls nsl_cleanup, which deletes them all.
#   nsl_setup PREFIX          the hub namespace; NSL_TAG, NSL_HUB set
#   nsl_add I                 host I (1..250): namespace $(nsl_ns I)
#   nsl_neigh                 permanent neighbour entries between all hosts
#   nsl_ns I / nsl_ip I       host I's namespace name / its address
#   nsl_cleanup               delete every namespace made here
# Needs root (ip netns).
# shellcheck shell=bash

NSL_NSS=()
NSL_HOSTS=()

nsl_setup() {
	NSL_TAG=$(printf '%04x%04x' "$RANDOM" "$$")
	NSL_PREFIX=$1
	NSL_HUB="${NSL_PREFIX}${NSL_TAG}h"
	ip netns add "$NSL_HUB" || return 1
	NSL_NSS+=("$NSL_HUB")
	ip -n "$NSL_HUB" link add br0 type bridge &&
		ip -n "$NSL_HUB" link set br0 up
}

nsl_ns() { echo "${NSL_PREFIX}${NSL_TAG}m$1"; }
nsl_ip() { echo "10.251.0.$1"; }

nsl_add() {
	local i=$1 ns
	ns=$(nsl_ns "$i")
	ip netns add "$ns" || return 1
	NSL_NSS+=("$ns")
	NSL_HOSTS+=("$i")
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$ns" link set lo up &&
		ip -n "$NSL_HUB" link add "p$i" type veth peer name eth0 netns "$ns" &&
		ip -n "$NSL_HUB" link set "p$i" master br0 up &&
		ip -n "$ns" addr add "$(nsl_ip "$i")/24" dev eth0 &&
		ip -n "$ns" link set eth0 up
}

nsl_neigh() {
	local i j mac
	for i in "${NSL_HOSTS[@]}"; do
		mac=$(ip netns exec "$(nsl_ns "$i")" cat /sys/class/net/eth0/address) ||
			return 1
		for j in "${NSL_HOSTS[@]}"; do
			[ "$i" = "$j" ] && continue
			ip -n "$(nsl_ns "$j")" neigh replace "$(nsl_ip "$i")" \
				lladdr "$mac" dev eth0 nud permanent || return 1
		done
	done
}

nsl_cleanup() {
	local ns
	for ns in "${NSL_NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	NSL_NSS=()
}
