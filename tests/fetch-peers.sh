#!/usr/bin/env bash
# Unpacks the real NTP peers the tests talk to (chronyd, ntpsec's ntpdig,
# sntp) into DIR without installing them: installing chrony would start a
# time daemon that disciplines this machine's clock.
set -euo pipefail
dir=${1:?usage: fetch-peers.sh DIR}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)  # dpkg-deb -x needs an absolute path
mkdir -p "$dir/debs" "$dir/root"
if [ -x "$dir/root/usr/sbin/chronyd" ] && [ -e "$dir/root/usr/bin/ntpdig" ] &&
	[ -e "$dir/root/usr/bin/sntp" ] &&
	[ -d "$dir/root/usr/lib/python3/dist-packages/ntp" ]; then
	exit 0
fi
cd "$dir/debs"
apt-get download chrony ntpsec-ntpdig sntp python3-ntp >/dev/null
for d in ./*.deb; do
	dpkg-deb -x "$d" "$dir/root"
done
echo "fetch-peers: unpacked into $dir/root"
