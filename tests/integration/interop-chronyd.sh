#!/usr/bin/env bash
# Interop: chronyd 4.3 from Debian, run as a client (-x, without
# CAP_SYS_TIME, its own temp dir and unix command socket), must select our
# server as its synchronisation source: `chronyc sources` shows '*' on it and
# `chronyc tracking` names it as the reference, one stratum below.
#   interop-chronyd.sh PEERS_ROOT NTPNODE|chronyd
# ("chronyd" as the server checks the harness itself against chrony.)
set -euo pipefail
PEERS=${1:?usage: interop-chronyd.sh PEERS_ROOT NTPNODE|chronyd}
server=${2:?usage: interop-chronyd.sh PEERS_ROOT NTPNODE|chronyd}
# shellcheck source=tests/peers-lib.sh
. "$(dirname "$0")/../peers-lib.sh"
peers_require
TMP=$(mktemp -d)
trap 'lib_stop_all; rm -rf "$TMP"' EXIT

if [ "$server" = chronyd ]; then
	start_chronyd_server "$TMP/server"
else
	start_ntpnode "$server" "$TMP/server" "serve-threads 1"
fi

client=$TMP/client
mkdir -p "$client"
chmod 700 "$client"
# minpoll/maxpoll -2: a request every 0.25 s, so selection takes seconds.
cat >"$client/chrony.conf" <<CONF
server 127.0.0.1 port $NTP_PORT iburst minpoll -2 maxpoll -2
port 0
cmdport 0
pidfile $client/chronyd.pid
bindcmdaddress $client/chronyd.sock
CONF
"${NOPRIV[@]}" "$PEERS/usr/sbin/chronyd" -x -d -u root -f "$client/chrony.conf" \
	>"$client/chronyd.log" 2>&1 &
LIB_PIDS+=($!)

chronyc() {
	"$PEERS/usr/bin/chronyc" -h "$client/chronyd.sock" -n -c "$@" 2>/dev/null
}

selected=
for _ in $(seq 100); do
	# CSV: mode,state,address,stratum,poll,reach,...
	if chronyc sources | grep -q "^\^,\*,127\.0\.0\.1,10,"; then
		selected=1
		break
	fi
	sleep 0.2
done
if [ -z "$selected" ]; then
	echo "--- chronyc sources"; chronyc sources || true
	echo "--- client log"; cat "$client/chronyd.log"
	lib_fail "chronyd did not select our server"
fi
# tracking CSV: refid (hex),address,stratum,...
tracking=$(chronyc tracking)
case "$tracking" in
7F000001,127.0.0.1,11,*) ;;
*) lib_fail "chronyc tracking does not follow our server: $tracking" ;;
esac
echo "interop-chronyd: chronyd selected $server on port $NTP_PORT: $tracking"
