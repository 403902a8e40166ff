#!/usr/bin/env bash
# Takes a fresh Debian 12 machine to a build of NTP-MC (run as root).
#   tools/install-deps.sh          build dependencies
#   tools/install-deps.sh --test   also what the test suite needs
# libraft 0.22 comes from bookworm-backports, enabled by reusing the URIs of
# the machine's own Debian source: no mirror host is written here.
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

build_pkgs=(build-essential cmake pkg-config libuv1-dev libsodium-dev
	libprotobuf-c-dev protobuf-c-compiler liblmdb-dev libcmocka-dev)
test_pkgs=(clang libclang-rt-14-dev iproute2 util-linux procps python3 jq
	wireguard-tools wireguard-go nftables  # nftables: egress_count compares with the kernel
	lintian man-db systemd python3-yaml strace  # the package test (tests/integration/package.sh)
	gnupg curl ansible-core                     # the cloud in a box, its Ansible run
	python3-requests python3-configobj python3-jsonpatch python3-jsonschema
	python3-jinja2 python3-netifaces python3-serial)  # what `cloud-init schema` imports (infra_static)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (it calls apt-get)" >&2
	exit 1
fi

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || echo "$p"
	done
}

raft_ok() {
	local v
	v=$(dpkg-query -W -f='${Version}' libraft-dev 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge 0.22.1
}

# Prints the URIs and Signed-By of the machine's main Debian source (the one
# carrying the bookworm suite), from deb822 or one-line sources.
debian_source() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN{RS=""; FS="\n"}
		{ u=""; s=""; k=""
		  for (i=1;i<=NF;i++) {
		    if ($i ~ /^URIs:/) { u=$i; sub(/^URIs:[ \t]*/,"",u) }
		    if ($i ~ /^Suites:/) { s=" " $i " " }
		    if ($i ~ /^Signed-By:/) { k=$i; sub(/^Signed-By:[ \t]*/,"",k) }
		  }
		  if (s ~ /[ \t]bookworm[ \t]/ && u != "") { print u "|" k; exit }
		}' "$f"
	done
	if [ -f /etc/apt/sources.list ]; then
		awk '$1=="deb" && $0 ~ / bookworm / {
			for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i "|"; exit } }' \
			/etc/apt/sources.list
	fi
}

enable_backports() {
	local dst=/etc/apt/sources.list.d/ntpmc-bookworm-backports.sources
	[ -f "$dst" ] && return 0
	if grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	local line uris key
	line=$(debian_source | head -n1)
	if [ -z "$line" ]; then
		echo "install-deps: no Debian bookworm apt source found to reuse" >&2
		exit 1
	fi
	uris=${line%%|*}
	key=${line#*|}
	{
		echo "Types: deb"
		echo "URIs: $uris"
		echo "Suites: bookworm-backports"
		echo "Components: main"
		[ -n "$key" ] && echo "Signed-By: $key"
	} >"$dst"
	echo "install-deps: enabled bookworm-backports from $uris"
}

pkgs=("${build_pkgs[@]}")
[ "$want_test" = 1 ] && pkgs+=("${test_pkgs[@]}")
need=$(missing "${pkgs[@]}")
if [ -n "$need" ] || ! raft_ok; then
	enable_backports
	apt-get update -q
	# shellcheck disable=SC2086 # one package name per word
	[ -n "$need" ] && apt-get install -y -q --no-install-recommends $need
	raft_ok || apt-get install -y -q -t bookworm-backports libraft-dev
fi
raft_ok || { echo "install-deps: libraft-dev >= 0.22.1 not installed" >&2; exit 1; }
echo "install-deps: dependencies present"
