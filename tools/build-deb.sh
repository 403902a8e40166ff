#!/usr/bin/env bash
# Builds the Debian package from this tree:
#   tools/build-deb.sh     writes build/deb/ntpmc_VERSION_ARCH.deb, prints its path
# gcc with Debian's compiler and linker flags (dpkg-buildflags, every
# hardening feature) in build/deb/tree, then CPack's DEB generator on the
# install() rules (infra/deb/package.cmake: why CPack, the Depends, the
# maintainer scripts). Needs what tools/install-deps.sh installs (cmake,
# gcc, dpkg-dev for dpkg-buildflags and dpkg-shlibdeps, file).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(pwd)/build/deb
tree=$out/tree

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
CC=gcc cmake -S . -B "$tree" -DCMAKE_BUILD_TYPE=None -DNTPMC_TESTS=OFF \
	-DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >/dev/null
cmake --build "$tree" -j"$(nproc)"
rm -f "$out"/ntpmc_*.deb
(cd "$tree" && cpack -G DEB -B "$out" >/dev/null)
deb=$(ls "$out"/ntpmc_*.deb)
version=$("$tree/node/ntpnode" --version)
[ "ntpnode $(dpkg-deb -f "$deb" Version)" = "$version" ] || {
	echo "build-deb: the package's version is not ntpnode's ($version)" >&2
	exit 1
}
echo "$deb"
