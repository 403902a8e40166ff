#!/usr/bin/env bash
# The egress count against the kernel's on a three-member loopback cluster
# (docs/cost.md): in a network namespace of its own (unshare -n), an
# nftables output counter sees every TCP and UDP packet the members send
# (the metrics scrapes and the load generator's requests left out); over a
# window of NTP load, the members' ntpmc_egress_bytes_total (all members,
# by class) is compared with it: UDP (ntp, crosscheck, other) and TCP (the
# cluster class, an estimate). Not a test: it prints the figures.
#   NTPNODE=... NTPCTL=... tests/bench/egress-kernel.sh [SECONDS] [REQ/S]
set -euo pipefail
secs=${1:-60}
rate=${2:-30}
if [ -z "${EGRESS_KERNEL_NETNS:-}" ]; then
	EGRESS_KERNEL_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
here=$(cd "$(dirname "$0")/../integration" && pwd)
# shellcheck source-path=SCRIPTDIR/../integration
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"
command -v nft >/dev/null || lc_fail "nft missing"

declare -a mport
for i in 1 2 3; do
	mport[i]=$(lc_free_port)
	lc_conf "$i" "ratelimit off" "metrics-listen 127.0.0.1 port ${mport[i]}"
done
nft -f - <<NFT
table inet egress_kernel {
	counter c_tcp { }
	counter c_udp { }
	chain out {
		type filter hook output priority 0; policy accept;
		tcp sport { ${mport[1]}, ${mport[2]}, ${mport[3]} } return
		tcp dport { ${mport[1]}, ${mport[2]}, ${mport[3]} } return
		ip saddr 127.0.0.9 return
		meta l4proto tcp counter name c_tcp
		meta l4proto udp counter name c_udp
	}
}
NFT
lc_init 1
lc_wait_leader 10 1 >/dev/null || lc_fail "no leader"
LC_TOKEN=$(lc_ctl 1 token create --uses 2)
lc_join 2
lc_join 3
lc_wait_voters 3 30 || lc_fail "no three voters"
sleep 5

python3 - "$secs" "$rate" "$(lc_nport 1)" "$(lc_nport 2)" "$(lc_nport 3)" \
	"${mport[1]}" "${mport[2]}" "${mport[3]}" <<'PY'
import json, re, socket, subprocess, sys, time, urllib.request
secs, rate = int(sys.argv[1]), float(sys.argv[2])
nports = [int(x) for x in sys.argv[3:6]]
mports = [int(x) for x in sys.argv[6:9]]
CL = ("ntp", "crosscheck", "cluster", "other")

def kernel():
    out = json.loads(subprocess.check_output(
        ["nft", "-j", "list", "counters", "table", "inet", "egress_kernel"]))
    return {o["counter"]["name"]: o["counter"]["bytes"]
            for o in out["nftables"] if "counter" in o}

def ours():
    tot = dict.fromkeys(CL, 0)
    for p in mports:
        t = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % p,
                                   timeout=5).read().decode()
        for c in CL:
            m = re.search(r'^ntpmc_egress_bytes_total\{class="%s"\} (\d+)$'
                          % c, t, re.M)
            tot[c] += int(m.group(1))
    return tot

k0, o0 = kernel(), ours()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.9", 0))
s.setblocking(False)
t0, sent, i = time.time(), 0, 0
while time.time() - t0 < secs:
    while sent < (time.time() - t0) * rate:
        s.sendto(bytes([0x23]) + bytes(47), ("127.0.0.1", nports[i % 3]))
        sent += 1
        i += 1
    try:
        while True:
            s.recv(100)
    except BlockingIOError:
        pass
    time.sleep(0.01)
time.sleep(2)   # flushed, and a status
k1, o1 = kernel(), ours()
dk = {n: k1[n] - k0[n] for n in k1}
do = {c: o1[c] - o0[c] for c in CL}
udp_ours = do["ntp"] + do["crosscheck"] + do["other"]
print("window %d s, %d requests" % (secs, sent))
print("ours by class: " + ", ".join("%s %d" % (c, do[c]) for c in CL))
print("UDP: kernel %d, ours %d (ntp+crosscheck+other): %+.2f %%" %
      (dk["c_udp"], udp_ours, 100.0 * (udp_ours - dk["c_udp"]) / dk["c_udp"]))
print("TCP: kernel %d, ours %d (cluster): %+.2f %%" %
      (dk["c_tcp"], do["cluster"], 100.0 * (do["cluster"] - dk["c_tcp"]) / dk["c_tcp"]))
tot_k, tot_o = dk["c_udp"] + dk["c_tcp"], sum(do.values())
print("all: kernel %d, ours %d: %+.2f %%" % (tot_k, tot_o,
                                             100.0 * (tot_o - tot_k) / tot_k))
PY
