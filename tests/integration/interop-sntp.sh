#!/usr/bin/env bash
# Interop: Debian's sntp and ntpdig (ntpsec 1.2.2; sntp is ntpdig under
# another name) accept our replies: exit 0, an offset under a second (same
# clock), stratum 10, no-leap. ntpdig has no port option, so the test runs in
# a network namespace of its own (unshare -n: just a loopback, gone when the
# test exits), where our server can take port 123 without touching the host.
#   interop-sntp.sh PEERS_ROOT NTPNODE|chronyd
set -euo pipefail
PEERS=${1:?usage: interop-sntp.sh PEERS_ROOT NTPNODE|chronyd}
server=${2:?usage: interop-sntp.sh PEERS_ROOT NTPNODE|chronyd}
# shellcheck source=tests/peers-lib.sh
. "$(dirname "$0")/../peers-lib.sh"
peers_require
if [ -z "${INTEROP_NETNS:-}" ]; then
	INTEROP_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT
peers_python_env

FORCE_PORT=123
if [ "$server" = chronyd ]; then
	start_chronyd_server "$TMP/server"
else
	start_ntpnode "$server" "$TMP/server" "serve-threads 1"
fi

# sntp: "DATE TIME (+ZONE) OFFSET +/- ERROR HOST sSTRATUM LEAP"
out=$("$PEERS/usr/bin/sntp" -t 2 127.0.0.1) || lib_fail "sntp failed: $out"
echo "sntp: $out"
python3 - "$out" <<'PY' || lib_fail "sntp output not as expected"
import re, sys
m = re.match(r"^\S+ \S+ \([+-]\d{4}\) ([+-]\d+\.\d+) \+/- (\d+\.\d+) "
             r"127\.0\.0\.1 s10 no-leap$", sys.argv[1].strip())
assert m, "unexpected line"
assert abs(float(m.group(1))) < 1.0, "offset too large"
PY

# ntpdig, JSON, several samples.
out=$("$PEERS/usr/bin/ntpdig" -j -p 3 -t 2 127.0.0.1) ||
	lib_fail "ntpdig failed: $out"
echo "ntpdig: $out"
python3 - "$out" <<'PY' || lib_fail "ntpdig output not as expected"
import json, sys
r = json.loads(sys.argv[1])
assert r["stratum"] == 10 and r["leap"] == "no-leap", r
assert r["ip"] == "127.0.0.1" and abs(r["offset"]) < 1.0, r
PY

# The same client against an address nobody serves must fail: the checks
# above can fail.
if "$PEERS/usr/bin/sntp" -t 1 127.0.0.2 >/dev/null 2>&1; then
	lib_fail "sntp succeeded against 127.0.0.2, where nothing serves"
fi
echo "interop-sntp: ok ($server)"
