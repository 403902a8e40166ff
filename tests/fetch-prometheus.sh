#!/usr/bin/env bash
# Unpacks Debian's prometheus package (prometheus and promtool) into DIR
# without installing it: installing would start Prometheus as a service.
# The monitoring tests (tests/integration/prometheus*.sh) run it from
# there, on loopback, for the length of a test.
set -euo pipefail
dir=${1:?usage: fetch-prometheus.sh DIR}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)  # dpkg-deb -x needs an absolute path
if [ -x "$dir/root/usr/bin/prometheus" ] && [ -x "$dir/root/usr/bin/promtool" ]; then
	exit 0
fi
mkdir -p "$dir/debs" "$dir/root"
cd "$dir/debs"
apt-get download prometheus >/dev/null
dpkg-deb -x ./prometheus_*.deb "$dir/root"
echo "fetch-prometheus: unpacked into $dir/root"
