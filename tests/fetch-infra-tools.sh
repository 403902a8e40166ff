#!/usr/bin/env bash
# What the infra checks (tests/integration/infra-static.sh) read the
# infra/ files with, in DIR, without installing anything on this machine:
#   DIR/npm       @cdktf/hcl2json from the npm registry (parses Terraform)
#   DIR/root      Debian's cloud-init, unpacked (apt-get download +
#                 dpkg-deb -x; never installed, never run as a service:
#                 only `cloud-init schema`). Its Python libraries are
#                 Debian packages that tools/install-deps.sh --test installs.
set -euo pipefail
dir=${1:?usage: fetch-infra-tools.sh DIR}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)  # dpkg-deb -x needs an absolute path
hcl=0.21.0
if [ ! -f "$dir/npm/node_modules/@cdktf/hcl2json/package.json" ] ||
	[ "$(cd "$dir/npm" && node -p 'require("@cdktf/hcl2json/package.json").version')" != "$hcl" ]; then
	mkdir -p "$dir/npm"
	[ -f "$dir/npm/package.json" ] || echo '{"name": "ntpmc-infra-tools", "private": true}' >"$dir/npm/package.json"
	(cd "$dir/npm" && npm install --no-audit --no-fund --silent "@cdktf/hcl2json@$hcl")
	echo "fetch-infra-tools: @cdktf/hcl2json $hcl in $dir/npm"
fi
if [ ! -x "$dir/root/usr/bin/cloud-init" ]; then
	mkdir -p "$dir/debs" "$dir/root"
	(cd "$dir/debs" && apt-get download cloud-init >/dev/null)
	dpkg-deb -x "$dir"/debs/cloud-init_*.deb "$dir/root"
	echo "fetch-infra-tools: cloud-init unpacked into $dir/root"
fi
