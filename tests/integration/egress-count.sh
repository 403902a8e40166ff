#!/usr/bin/env bash
# Egress accounting against the kernel: real clients (Debian's sntp and
# ntpdig, tests/fetch-peers.sh) ask ntpnode over IPv4 and IPv6, and
# ntpmc_egress_bytes_total{class="ntp"} must equal what an nftables output
# counter saw leave UDP port 123 (the IP packet bytes: 76 per IPv4 reply,
# 96 per IPv6 one). Runs in a network namespace of its own (unshare -n:
# just a loopback, gone when the test exits), so the counter sees nothing
# else and our server may take port 123 without touching the host.
#   egress-count.sh PEERS_ROOT NTPNODE
set -euo pipefail
PEERS=${1:?usage: egress-count.sh PEERS_ROOT NTPNODE}
NTPNODE=${2:?usage: egress-count.sh PEERS_ROOT NTPNODE}
# shellcheck source=tests/peers-lib.sh
. "$(dirname "$0")/../peers-lib.sh"
peers_require
if ! command -v nft >/dev/null; then
	echo "SKIP: nft missing (tools/install-deps.sh --test)"
	exit 77
fi
if [ -z "${EGRESS_NETNS:-}" ]; then
	EGRESS_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT
peers_python_env

nft -f - <<'NFT'
table inet egress_test {
	counter ntp4 { }
	counter ntp6 { }
	chain out {
		type filter hook output priority 0; policy accept;
		meta nfproto ipv4 udp sport 123 counter name ntp4
		meta nfproto ipv6 udp sport 123 counter name ntp6
	}
}
NFT

MPORT=9461
FORCE_PORT=123
start_ntpnode "$NTPNODE" "$TMP/server" "serve-threads 2" "listen ::1 port 123" \
	"metrics-listen 127.0.0.1 port $MPORT"

for _ in 1 2 3; do
	"$PEERS/usr/bin/sntp" -t 2 127.0.0.1 >/dev/null ||
		lib_fail "sntp 127.0.0.1 failed"
done
"$PEERS/usr/bin/ntpdig" -j -p 4 -t 2 127.0.0.1 >/dev/null ||
	lib_fail "ntpdig 127.0.0.1 failed"
"$PEERS/usr/bin/ntpdig" -6 -j -p 2 -t 2 ::1 >/dev/null ||
	lib_fail "ntpdig ::1 failed"

# The counters are flushed per batch: wait until the replies the kernel
# counted show up, then compare.
python3 - "$MPORT" <<'PY' || lib_fail "egress count differs from the kernel's"
import json, re, subprocess, sys, time, urllib.request

def kernel():
    out = json.loads(subprocess.check_output(
        ["nft", "-j", "list", "counters", "table", "inet", "egress_test"]))
    c = {}
    for o in out["nftables"]:
        if "counter" in o:
            k = o["counter"]
            c[k["name"]] = (k["packets"], k["bytes"])
    return c

def ours():
    t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1],
                               timeout=5).read().decode()
    m = re.search(r'^ntpmc_egress_bytes_total\{class="ntp"\} (\d+)$', t, re.M)
    assert m, "no ntpmc_egress_bytes_total{class=\"ntp\"}"
    return int(m.group(1)), t

for _ in range(50):
    k = kernel()
    got, text = ours()
    want = k["ntp4"][1] + k["ntp6"][1]
    if got == want:
        break
    time.sleep(0.1)
print("kernel: ipv4 %d packets %d bytes, ipv6 %d packets %d bytes; "
      "ntpmc_egress_bytes_total{class=\"ntp\"} %d" %
      (k["ntp4"][0], k["ntp4"][1], k["ntp6"][0], k["ntp6"][1], got))
assert k["ntp4"][0] >= 7 and k["ntp6"][0] >= 2, "too few replies"
assert k["ntp4"][1] == 76 * k["ntp4"][0], "an IPv4 reply is not 76 bytes"
assert k["ntp6"][1] == 96 * k["ntp6"][0], "an IPv6 reply is not 96 bytes"
assert got == want, "ours %d, the kernel's %d" % (got, want)
for c in ("crosscheck", "cluster", "other"):
    assert re.search(r'^ntpmc_egress_bytes_total\{class="%s"\} 0$' % c,
                     text, re.M), c + " should be 0 on a standalone node"
PY
echo "egress-count: ok"
