#!/usr/bin/env bash
# ntpmc-firstboot (infra/cloud-init) refuses broken input early: each case
# below must exit 1 with exactly one console line "ntpmc-firstboot:
# FAILED: ..." saying what is wrong, before anything is installed,
# configured or joined (no package, no /etc/ntpnode/ntpnode.conf, no
# ntpnode user), and record it in /var/lib/ntpmc/firstboot.state; a done
# state makes a second run a no-op. The script runs as root in a throwaway
# root (an overlay of / on a tmpfs in private mount, PID and network
# namespaces: no metadata service answers there, nothing is reachable,
# nothing it writes stays). ctest firstboot_input.
#   firstboot-input.sh SRC_DIR
set -euo pipefail
if [ "${1:-}" = --inside ]; then
	inside=1
	shift
else
	inside=0
fi
src=$(cd "${1:?usage: firstboot-input.sh SRC_DIR}" && pwd)
fail() { echo "firstboot-input: FAIL: $*" >&2; exit 1; }

if [ "$inside" = 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "firstboot-input: SKIP: needs root (namespaces)"; exit 77; }
	work=$(mktemp -d /tmp/ntpmc-fbi.XXXXXX)
	rc=0
	unshare --mount --net --pid --fork --kill-child "$0" --inside "$src" "$work" || rc=$?
	rmdir "$work"
	exit "$rc"
fi

work=$2
mount --make-rprivate /
mount -t tmpfs tmpfs "$work"
mkdir -p "$work/upper" "$work/work" "$work/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$work/root"
R=$work/root
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
ip link set lo up
install -m 0755 "$src/infra/cloud-init/ntpmc-firstboot.sh" "$R/tmp/ntpmc-firstboot"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
in_root dpkg-query -W ntpmc >/dev/null 2>&1 && fail "ntpmc is installed on this machine: cannot tell"

good=(NTPMC_ROLE=join NTPMC_NODE_NAME=n2 NTPMC_PROVIDER=aws
	NTPMC_PACKAGE_URL=https://downloads.example.org/ntpmc_0.1.0_amd64.deb
	NTPMC_UPSTREAM=sth1.ntp.se NTPMC_UPSTREAM=ptbtime1.ptb.de
	NTPMC_TOKEN_SLOT=aws-ssm:/ntpmc/join/n2)
n=0
# case WANT KEY=VALUE...: the settings are good's, with KEY replaced (an
# empty VALUE keeps the key, empty; "-KEY" drops it), plus any new KEY
case_() {
	local want=$1 kv k out rc=0 lines
	shift
	n=$((n + 1))
	local -a env=("${good[@]}")
	for kv in "$@"; do
		k=${kv%%=*}
		local -a kept=()
		for e in "${env[@]}"; do
			[ "${e%%=*}" = "${k#-}" ] || kept+=("$e")
		done
		env=("${kept[@]}")
		[ "${k#-}" != "$k" ] || env+=("$kv")
	done
	printf '%s\n' "${env[@]}" >"$R/tmp/env"
	rm -f "$R/var/lib/ntpmc/firstboot.state"
	out=$(in_root /tmp/ntpmc-firstboot /tmp/env 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "case $n ($want): exit $rc, not 1: $out"
	lines=$(grep -c 'FAILED' <<<"$out" || true)
	[ "$lines" = 1 ] || fail "case $n ($want): $lines FAILED lines: $out"
	[ "$(tail -n 1 <<<"$out")" = "$(grep FAILED <<<"$out")" ] ||
		fail "case $n ($want): the FAILED line is not the last: $out"
	grep -q "^ntpmc-firstboot: FAILED: .*$want" <<<"$out" || fail "case $n: wanted '$want', got: $out"
	grep -q "^failed: .*$want" "$R/var/lib/ntpmc/firstboot.state" ||
		fail "case $n ($want): firstboot.state says $(cat "$R/var/lib/ntpmc/firstboot.state")"
	[ ! -e "$R/etc/ntpnode/ntpnode.conf" ] || fail "case $n ($want): a config was written"
	in_root dpkg-query -W ntpmc >/dev/null 2>&1 && fail "case $n ($want): the package was installed"
	in_root getent passwd ntpnode >/dev/null && fail "case $n ($want): the ntpnode user exists"
	echo "firstboot-input: ok: $(grep FAILED <<<"$out")"
}
case_ "NTPMC_ROLE is empty" NTPMC_ROLE=
case_ "unknown role 'leader'" NTPMC_ROLE=leader
case_ "unknown provider 'azure'" NTPMC_PROVIDER=azure
case_ "NTPMC_PROVIDER is empty" -NTPMC_PROVIDER
case_ "NTPMC_TOKEN_SLOT is empty" NTPMC_TOKEN_SLOT=
case_ "bad NTPMC_TOKEN_SLOT 'gcp-secret:projects/p/secrets/s' for provider aws" \
	NTPMC_TOKEN_SLOT=gcp-secret:projects/p/secrets/s
case_ "upstream 0.debian.pool.ntp.org: pool servers must not sync from pool.ntp.org" \
	NTPMC_UPSTREAM=0.debian.pool.ntp.org
case_ "no NTPMC_UPSTREAM" -NTPMC_UPSTREAM
case_ "is not an http(s) URL" NTPMC_PACKAGE_URL=ftp://x/ntpmc.deb
case_ "NTPMC_PACKAGE_SHA256 is not 64 hex digits" NTPMC_PACKAGE_SHA256=abc
case_ "bad node name" "NTPMC_NODE_NAME=a b"
case_ "unknown setting 'NTPMC_TOKEN'" NTPMC_TOKEN=x
case_ "not KEY=VALUE" "just words"
case_ "NTPMC_CLUSTER_PORT '70000' is not a port" NTPMC_CLUSTER_PORT=70000
# valid settings, but no metadata service (nothing answers in this namespace)
case_ "no AWS metadata service at http://169.254.169.254" NTPMC_TOKEN_WAIT=5
case_ "no GCP metadata service at http://169.254.169.254" NTPMC_PROVIDER=gcp \
	NTPMC_TOKEN_SLOT=gcp-secret:projects/p-1/secrets/s
n=$((n + 1))
rm -f "$R/var/lib/ntpmc/firstboot.state"
out=$(in_root /tmp/ntpmc-firstboot /tmp/missing 2>&1) && fail "no settings file, yet exit 0"
[ "$out" = "ntpmc-firstboot: FAILED: no settings file /tmp/missing" ] || fail "no settings file: $out"
echo "firstboot-input: ok: $out"
# a first boot that is done is never run again
mkdir -p "$R/var/lib/ntpmc"
echo "done" >"$R/var/lib/ntpmc/firstboot.state"
out=$(in_root /tmp/ntpmc-firstboot /nonexistent 2>&1) || fail "a done first boot ran again: $out"
grep -q "already done" <<<"$out" || fail "a done first boot: $out"
echo "firstboot-input: ok: a done first boot is left alone"
echo "firstboot-input: $((n + 1)) passed, 0 failed"
