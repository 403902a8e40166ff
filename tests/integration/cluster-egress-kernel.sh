#!/usr/bin/env bash
# The cost ledger against the kernel (docs/cost.md): three members, each in
# a network namespace of its own (tests/netns-lib.sh: a veth to a bridge),
# talking over their WireGuard mesh (wireguard-go, made before ntpnode
# starts, as `wireguard-go NAME` would on a VM), with an nftables output
# counter on each member's eth0 set up before the member starts. A fourth
# namespace asks every member for NTP (ntpbench, 100 requests/s for 15 s)
# while the cluster runs the lan profile (raft heartbeats every 50 ms,
# statuses every 250 ms, cross-checks every 4 s, ledger commits every 5 s).
# Then the cluster goes quiet (the wan profile, no more ledger commits or
# cross-checks, statuses every 2 s) and, once each member's counters have
# reached the leader twice since, `ntpctl -o json cost status` asked of the
# leader must show for every member
# - ntp equal to the kernel's bytes of UDP from port 123 (exact);
# - ntp + crosscheck + cluster + other within 1 % of every IP byte the
#   kernel saw leave the member's eth0: WireGuard's outer packets, the
#   joins' plain TCP, and what the ledger leaves out by design, which the
#   output names: WireGuard's handshakes and keepalives, TCP's SYN and FIN
#   (the counted ACKs are an estimate), and an ICMP port unreachable a
#   joiner may send when the leader's first handshake arrives before the
#   joiner's WireGuard listens on its port. No ARP (permanent neighbours;
#   not IP anyway), no IPv6, no DNS.
# The counter sits in the output hook of an inet table: its bytes are the
# skb's length there, the IP packet without any link-layer header (an
# IPv4 NTP reply counts 76 B, as egress-count.sh checks), the unit the
# ledger counts in. Counted only on eth0: the inner packets on the
# WireGuard interface are not on the wire. A packet over the MTU (a GSO
# batch, whose segments' headers the hook never sees) would make the
# kernel's count low: the test fails if it sees one.
#   NTPNODE=... NTPCTL=... NTPBENCH=... cluster-egress-kernel.sh
set -euo pipefail
: "${NTPNODE:?}" "${NTPCTL:?}" "${NTPBENCH:?}"
here=$(cd "$(dirname "$0")" && pwd)

skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (ip netns, nft)"
for t in ip nft wg wireguard-go jq setpriv; do
	command -v "$t" >/dev/null || skip "$t missing (tools/install-deps.sh --test)"
done

# shellcheck source=tests/netns-lib.sh
. "$here/../netns-lib.sh"
work=$(mktemp -d /tmp/ntpmc-egk.XXXXXX)
NSL_WORK=$work NSL_NODE=$NTPNODE NSL_CTL=$NTPCTL
declare -a wgpids=() wgif=()
n=3
client=9

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
cleanup() {
	local p
	# the members first, then their wireguard-go
	for p in "${NSL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${NSL_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	for p in "${wgpids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${wgpids[@]}"; do wait "$p" 2>/dev/null || true; done
	nsl_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	log "FAIL: $*"
	local i
	for i in $(seq $n); do
		echo "--- n$i" >&2
		tail -n 15 "$work/n$i.log" >&2 || true
	done
	exit 1
}

nsl_setup egk || skip "cannot create a network namespace"
for i in $(seq $n) $client; do
	nsl_add "$i" || fail "namespace for host $i"
done
nsl_neigh || fail "neighbour entries"

for i in $(seq $n); do
	ns=$(nsl_ns "$i")
	# Segmentation offloads off: every TCP segment passes the hook as
	# the packet it is on the wire.
	if command -v ethtool >/dev/null; then
		nsl_in "$ns" ethtool -K eth0 tso off gso off >/dev/null 2>&1 || true
	fi
	nsl_in "$ns" nft -f - <<'NFT' || fail "nftables in $ns"
table inet egress_test {
	counter c_all { }
	counter c_ntp { }
	counter c_wg_data { }
	counter c_wg_keepalive { }
	counter c_wg_handshake { }
	counter c_tcp { }
	counter c_icmp { }
	counter c_over_mtu { }
	counter c_in_tcp_bare { }
	counter c_in_tcp_data { }
	counter c_in_tcp_ctl { }
	counter c_in_udp { }
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "eth0" goto wire
		oifname != "wg*" return
		meta l4proto tcp tcp flags & (syn | fin | rst) != 0 counter name c_in_tcp_ctl return
		meta l4proto tcp ip length 52 counter name c_in_tcp_bare return
		meta l4proto tcp counter name c_in_tcp_data return
		meta l4proto udp counter name c_in_udp
	}
	chain wire {
		counter name c_all
		meta length > 1500 counter name c_over_mtu
		udp sport 123 counter name c_ntp
		udp sport 51820 @th,64,8 4 udp length 40 counter name c_wg_keepalive
		udp sport 51820 @th,64,8 4 udp length > 40 counter name c_wg_data
		udp sport 51820 @th,64,8 { 1, 2, 3 } counter name c_wg_handshake
		meta l4proto tcp counter name c_tcp
		meta l4proto icmp counter name c_icmp
	}
}
NFT
	# The interface ntpnode's mesh goes on, as on a VM without the
	# module. wireguard-go's control socket is /var/run/wireguard/NAME.sock
	# whatever the namespace: a name unique on the machine.
	wgif[i]="wg${NSL_TAG:0:8}$i"
	# (ip netns exec, not inns: `ip` execs the program, so $! is its PID)
	ip netns exec "$ns" wireguard-go -f "${wgif[i]}" >"$work/wg$i.log" 2>&1 &
	wgpids+=($!)
	mkdir -p "$work/d$i"
	cat >"$work/n$i.conf" <<CONF
node-name n$i
datadir $work/d$i
control $work/c$i.sock
serve-threads 1
discipline virtual
local stratum 10
ratelimit off
crosscheck-interval 4
cluster-listen 0.0.0.0 port 4460
cluster-advertise $(nsl_ip "$i")
wireguard-interface ${wgif[i]} port 51820
provider other
CONF
done
for i in $(seq $n); do
	nsl_until 20 nsl_in "$(nsl_ns "$i")" ip link show "${wgif[i]}" ||
		fail "wireguard-go made no ${wgif[i]} in host $i"
done

month0=$(date -u +%Y-%m)
nsl_form 3 90 || fail "the cluster did not form"
leader=$(nsl_ctl 1 -o json cluster status |
	jq -r '.members[]|select(.is_leader)|.name' | tr -d n)
[ -n "$leader" ] || fail "no leader"
nsl_ctl "$leader" config set ledger-interval 5s >/dev/null || fail "ledger-interval"
log "3 voters over WireGuard, leader n$leader; NTP load for 15 s"

declare -a bench=()
for i in $(seq $n); do
	ip netns exec "$(nsl_ns $client)" "$NTPBENCH" -a "$(nsl_ip "$i")" \
		-r 100 -d 15 -s 1 -t 1000 >"$work/bench$i.out" 2>&1 &
	bench+=($!)
	NSL_PIDS+=($!)
done
for p in "${bench[@]}"; do wait "$p" || true; done
sleep 6   # a ledger commit falls after the load

# Quiet: what a member sends after its last report is the comparison's
# error, so make it little (a heartbeat every 2 s, no keepalives, no
# cross-checks, no more commits) while statuses still carry the counters
# (every 10 s, riding on the answers to heartbeats).
for kv in "election-timeout 10000" "heartbeat-timeout 2000" \
	"status-interval 2s" "transport-keepalive 0s" "wg-keepalive 0s" \
	"crosscheck-interval 1024" "ledger-interval 3600s"; do
	# shellcheck disable=SC2086
	nsl_ctl "$leader" config set $kv >/dev/null || fail "config set $kv"
done
log "quiet; comparing once every member reported twice more"

python3 - "$NTPCTL" "$work/c$leader.sock" "$n" "$month0" \
	"$(for i in $(seq $n); do nsl_ns "$i"; done)" <<'PY' ||
import json, subprocess, sys, time
ctl, sock, n, month0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
nss = sys.argv[5].split()
CL = ("ntp", "crosscheck", "cluster", "other")

def kernel(ns):
    out = json.loads(subprocess.check_output(
        ["ip", "netns", "exec", ns, "nft", "-j", "list", "counters",
         "table", "inet", "egress_test"], timeout=20))
    return {o["counter"]["name"][2:]: (o["counter"]["packets"],
                                   o["counter"]["bytes"])
            for o in out["nftables"] if "counter" in o}

def ledger():
    st = json.loads(subprocess.check_output(
        [ctl, "-s", sock, "-o", "json", "cost", "status"], timeout=20))
    return st["month"], {m["name"]: m["bytes"] for m in st["members"]}

# For each member: the reading right after its counters reached the
# leader for the second time since the cluster went quiet.
month, first = ledger()
last = {"n%d" % i: sum(first["n%d" % i].values()) for i in range(1, n + 1)}
changes = dict.fromkeys(last, 0)
final = {}
t0 = time.time()
deadline = t0 + 90
while len(final) < n and time.time() < deadline:
    time.sleep(0.5)
    month, cur = ledger()
    for name in last:
        if name in final:
            continue
        tot = sum(cur[name].values())
        if tot != last[name]:
            last[name] = tot
            changes[name] += 1
            print("%.1f s: %s reported %d" % (time.time() - t0, name, tot))
            if changes[name] >= 2:
                final[name] = (cur[name], kernel(nss[int(name[1:]) - 1]))
if len(final) < n:
    sys.exit("counters did not reach the leader twice in 90 s: %s" % changes)
if month != month0:
    print("SKIP: the UTC month changed during the test")
    sys.exit(77)

bad = []
for i in range(1, n + 1):
    name = "n%d" % i
    b, k = final[name]
    tot = sum(b[c] for c in CL)
    kall = k["all"][1]
    wg_ctl = k["wg_handshake"][1] + k["wg_keepalive"][1]
    print("%s: ledger %s = %d B; kernel %d B in %d packets "
          "(ntp %d, WireGuard data %d, handshakes %d, keepalives %d, "
          "plain tcp %d, icmp %d, other %d)" %
          (name, " + ".join("%s %d" % (c, b[c]) for c in CL), tot, kall,
           k["all"][0], k["ntp"][1], k["wg_data"][1], k["wg_handshake"][1],
           k["wg_keepalive"][1], k["tcp"][1], k["icmp"][1],
           kall - k["ntp"][1] - k["wg_data"][1] - wg_ctl - k["tcp"][1]
           - k["icmp"][1]))
    xo, xk = b["crosscheck"] + b["cluster"], kall - k["ntp"][1]
    print("%s: ledger/kernel %.4f (%+.2f %%); without WireGuard's "
          "handshakes and keepalives %.4f; all but ntp (crosscheck + "
          "cluster %d B, the kernel's %d B) %.4f" %
          (name, tot / kall, 100.0 * (tot - kall) / kall,
           tot / (kall - wg_ctl), xo, xk, xo / xk))
    # The cluster class alone: WireGuard's data packets minus those that
    # carry the cross-check's UDP (one size inside: each wrapped alike),
    # plus the joins' plain TCP.
    up, ub = k["in_udp"]
    if up and ub % up == 0:
        s = ub // up
        wrapped = up * (20 + 8 + 16 + (s + 15) // 16 * 16 + 16)
        kc = k["wg_data"][1] - wrapped + k["tcp"][1]
        print("%s: cluster %d B, the kernel's TCP %d B: %.4f" %
              (name, b["cluster"], kc, b["cluster"] / kc))
    print("%s: kernel counters (packets/bytes): %s" % (name, ", ".join(
        "%s %d/%d" % (c, k[c][0], k[c][1]) for c in sorted(k))))
    if k["over_mtu"][0]:
        bad.append("%s: %d packets over the MTU at the hook (GSO): the "
                   "kernel's count lacks their segments' headers" %
                   (name, k["over_mtu"][0]))
    # The hook counts IP packets, no link-layer header: an IPv4 NTP
    # reply is 76 B there (a 14-byte Ethernet header would make it 90).
    if k["ntp"][1] != 76 * k["ntp"][0]:
        bad.append("%s: %d NTP replies in %d B at the hook, not 76 B each" %
                   (name, k["ntp"][0], k["ntp"][1]))
    if k["ntp"][0] < 1000:
        bad.append("%s: only %d NTP replies" % (name, k["ntp"][0]))
    if b["ntp"] != k["ntp"][1]:
        bad.append("%s: ntp %d, the kernel's UDP from port 123 %d" %
                   (name, b["ntp"], k["ntp"][1]))
    if b["cluster"] == 0 or b["crosscheck"] == 0:
        bad.append("%s: no cluster or cross-check bytes" % name)
    if abs(tot - kall) > 0.01 * kall:
        bad.append("%s: ledger %d B, kernel %d B: %+.2f %%, over 1 %%" %
                   (name, tot, kall, 100.0 * (tot - kall) / kall))
for m in bad:
    print("FAIL: " + m)
sys.exit(1 if bad else 0)
PY
	{
		rc=$?
		[ "$rc" = 77 ] && exit 77
		fail "the ledger differs from the kernel's counts"
	}
echo "cluster-egress-kernel: ok"
