#!/usr/bin/env bash
# The Debian package, built and installed as an operator would, without
# touching this machine: tools/build-deb.sh builds it, lintian checks it
# (no error, no warning), then everything else happens in a throwaway root
# (an overlay of / with a tmpfs on top, in private mount, network and PID
# namespaces: what dpkg writes vanishes with them, and no service starts,
# since systemd is not running there and `systemctl` is a stub that only
# records its calls):
#   - dpkg -i: the files and their modes, the system user, the data
#     directory, `ntpnode --version` = the package's version, the example
#     config passes `ntpnode check`, the man pages render, the bash
#     completion completes, nothing started or enabled;
#   - the system calls of the installed ntpnode (a cluster member syncing,
#     serving, answering ntpctl, under strace) all pass the unit's
#     SystemCallFilter= (syscalls.py: the filter itself needs systemd);
#   - the unit: `systemd-analyze verify` clean, `security --offline=true`
#     no more exposed than Debian's chrony.service (unpacked by
#     tests/fetch-peers.sh, never installed); the first-boot script's own
#     lines for the WireGuard drop-in give the unit CAP_NET_ADMIN and
#     netlink (its config is checked where it runs: the cloud in a box);
#   - upgrades while the old daemon runs: a config that passes is followed
#     by `systemctl try-restart`; one with a directive the new version does
#     not know prints the errors, restarts nothing, exits 0, and the old
#     daemon still answers NTP and ntpctl;
#   - remove stops the unit, purge keeps the data directory and the user.
#   package.sh SRC_DIR PEERS_ROOT
set -euo pipefail
# (no `cmd | grep -q` below: with pipefail, grep quitting early can fail
# the pipeline through SIGPIPE)

if [ "${1:-}" = --inside ]; then
	shift
	inside=1
else
	inside=0
fi
src=$(cd "${1:?usage: package.sh SRC_DIR PEERS_ROOT}" && pwd)
peers=${2:?usage: package.sh SRC_DIR PEERS_ROOT}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if [ "$inside" = 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "package: needs root (namespaces, dpkg)"; exit 77; }
	for t in lintian dpkg-deb dpkg-shlibdeps systemd-analyze unshare python3 man strace; do
		command -v "$t" >/dev/null || fail "$t is missing (tools/install-deps.sh --test)"
	done
	chrony_unit=$peers/lib/systemd/system/chrony.service
	[ -f "$chrony_unit" ] || fail "no $chrony_unit (tests/fetch-peers.sh)"
	deb=$("$src/tools/build-deb.sh" | tail -n 1)
	[ -f "$deb" ] || fail "build-deb.sh made no package"
	echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"
	# Warnings too: one that is right to keep goes into a lintian
	# override in the package, with its reason.
	lintian --fail-on error,warning --display-info "$deb" 2>&1 |
		grep -v '^running with root' || fail "lintian"
	# the mount point of the throwaway root's tmpfs; empty again after
	work=$(mktemp -d /tmp/ntpmc-pkg.XXXXXX)
	rc=0
	unshare --mount --net --pid --fork --kill-child \
		"$0" --inside "$src" "$peers" "$deb" "$chrony_unit" "$work" || rc=$?
	rmdir "$work"
	exit "$rc"
fi

# ---- inside the namespaces ------------------------------------------------
deb=$3
chrony_unit=$4
work=$5
mount --make-rprivate /
mount -t tmpfs tmpfs "$work"
mkdir -p "$work/upper" "$work/work" "$work/root"
mount -t overlay overlay \
	-o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$work/root"
R=$work/root
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
ip link set lo up
cp "$deb" "$R/tmp/ntpmc.deb"
cp "$chrony_unit" "$R/tmp/chrony.service"
version=$(dpkg-deb -f "$deb" Version)

in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# systemctl as the maintainer scripts reach it (PATH: /usr/local/sbin
# first): records the call, starts nothing. systemd-analyze is the real one.
mkdir -p "$R/usr/local/sbin"
cat >"$R/usr/local/sbin/systemctl" <<'EOF'
#!/bin/sh
echo "$*" >>/tmp/systemctl.log
case "$*" in *is-enabled*) echo disabled; exit 1 ;; *is-active*) exit 3 ;; esac
exit 0
EOF
chmod 755 "$R/usr/local/sbin/systemctl"
# A machine's policy-rc.d (a container's "start nothing") would hide what
# the scripts ask for; the stub above already starts nothing.
rm -f "$R/usr/sbin/policy-rc.d"
calls() { cat "$R/tmp/systemctl.log" 2>/dev/null || true; }

# ---- install ----------------------------------------------------------------
# Like apt would, the other time daemon goes first (Conflicts: time-daemon).
for p in systemd-timesyncd chrony ntpsec openntpd ntp; do
	st=$(in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [ "$st" = "install ok installed" ]; then
		in_root dpkg --purge "$p" >/dev/null 2>&1 || fail "purging $p"
	fi
done
in_root dpkg -i /tmp/ntpmc.deb >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; fail "dpkg -i"; }
! grep -qE 'start|restart|enable' <<<"$(calls)" ||
	fail "install started or enabled something: $(calls)"

for f in /usr/sbin/ntpnode:755 /usr/bin/ntpctl:755 \
	/lib/systemd/system/ntpnode.service:644 \
	/usr/libexec/ntpmc/ntpnode-public-ip:755 \
	/usr/lib/ntpmc/providers/aws:755 /usr/lib/ntpmc/providers/gcp:755 \
	/usr/share/ntpmc/wireguard.conf:644 \
	/usr/share/man/man8/ntpnode.8.gz:644 /usr/share/man/man8/ntpctl.8.gz:644 \
	/usr/share/man/man5/ntpnode.conf.5.gz:644 \
	/usr/share/bash-completion/completions/ntpctl:644 \
	/usr/share/doc/ntpmc/copyright:644 /usr/share/doc/ntpmc/changelog.gz:644 \
	/usr/share/doc/ntpmc/install.md:644 \
	/usr/share/doc/ntpmc/examples/ntpnode.conf:644; do
	path=${f%:*}
	[ -f "$R$path" ] || fail "$path not installed"
	[ "$(stat -c %a "$R$path")" = "${f##*:}" ] ||
		fail "$path has mode $(stat -c %a "$R$path"), not ${f##*:}"
	[ "$(stat -c %U:%G "$R$path")" = root:root ] || fail "$path not root's"
done
[ ! -e "$R/etc/ntpnode/ntpnode.conf" ] || fail "the package wrote a config"
[ -d "$R/etc/ntpnode" ] || fail "no /etc/ntpnode for the config"
! grep -q '^/etc/' <<<"$(in_root dpkg-query -L ntpmc)" ||
	fail "the package owns a file in /etc"

# the user: a system account without a login, its home the data directory
IFS=: read -r _ _ uid _ _ home shell <<<"$(in_root getent passwd ntpnode)" ||
	fail "no user ntpnode"
[ "$uid" -lt 1000 ] || fail "ntpnode is not a system user (uid $uid)"
[ "$home" = /var/lib/ntpnode ] || fail "ntpnode's home is $home"
case $shell in */nologin | */false) ;; *) fail "ntpnode's shell is $shell" ;; esac
[ "$(in_root stat -c %U:%a /var/lib/ntpnode)" = ntpnode:700 ] ||
	fail "/var/lib/ntpnode is $(in_root stat -c %U:%a /var/lib/ntpnode)"

[ "$(in_root ntpnode --version)" = "ntpnode $version" ] ||
	fail "ntpnode --version said '$(in_root ntpnode --version)', the package is $version"
[ "$(in_root ntpctl --version)" = "ntpctl $version" ] || fail "ntpctl --version"
in_root ntpnode check -c /usr/share/doc/ntpmc/examples/ntpnode.conf >/dev/null ||
	fail "the example config does not pass ntpnode check"
for m in ntpnode ntpctl ntpnode.conf; do
	out=$(in_root env MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 "$m" 2>&1 >/dev/null) ||
		fail "man $m"
	[ -z "$out" ] || fail "man $m: $out"
done

# the completion: command words, second words, keyword arguments
complete_words() {
	in_root bash -c '. /usr/share/bash-completion/completions/ntpctl
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ntpctl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@" | sort | tr '\n' ' '
}
[ "$(complete_words ntpctl cluster "")" = "status " ] || fail "completion: cluster"
[ "$(complete_words ntpctl -o json node d)" = "drain " ] || fail "completion: node d"
[ "$(complete_words ntpctl loglevel "")" = "debug error info warn " ] ||
	fail "completion: loglevel"
for w in serverstats tracking cluster token backup; do
	grep -qw "$w" <<<"$(complete_words ntpctl "")" || fail "completion: no '$w'"
done

# ---- the unit ---------------------------------------------------------------
if ! in_root systemd-analyze verify /lib/systemd/system/ntpnode.service \
	>"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
	cat "$work/verify.log" >&2
	fail "systemd-analyze verify"
fi
exposure() {
	in_root systemd-analyze security --offline=true "$1" 2>&1 |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p'
}
ours=$(exposure ntpnode.service)
theirs=$(exposure /tmp/chrony.service)
[ -n "$ours" ] && [ -n "$theirs" ] || fail "no exposure figures ($ours, $theirs)"
echo "package: exposure ntpnode.service $ours, Debian's chrony.service $theirs"
awk -v a="$ours" -v b="$theirs" 'BEGIN { exit !(a <= b) }' ||
	fail "ntpnode.service ($ours) is more exposed than chrony.service ($theirs)"
sec=$(in_root systemd-analyze security --offline=true ntpnode.service 2>&1)
grep -q '✓ CapabilityBoundingSet=~CAP_NET_ADMIN' <<<"$sec" ||
	{ echo "$sec" >&2; fail "the unit alone has CAP_NET_ADMIN"; }

# The first-boot path (infra/cloud-init/ntpmc-firstboot.sh): a member that
# manages the mesh gets the drop-in from the script's own two lines, with
# no hand edit. (The whole first boot runs in the cloud in a box.)
grep -E '^[[:space:]]*(mkdir -p|ln -sf) .*/ntpnode\.service\.d' \
	"$src/infra/cloud-init/ntpmc-firstboot.sh" >"$R/tmp/dropin.sh"
[ "$(wc -l <"$R/tmp/dropin.sh")" = 2 ] || fail "ntpmc-firstboot: not one mkdir and one ln for the drop-in"
in_root sh -e /tmp/dropin.sh || fail "the first-boot script's drop-in lines failed"
sec=$(in_root systemd-analyze security --offline=true ntpnode.service 2>&1)
grep -q '✗ CapabilityBoundingSet=~CAP_NET_ADMIN' <<<"$sec" ||
	fail "with the first-boot drop-in the unit still lacks CAP_NET_ADMIN"
grep -q '✗ RestrictAddressFamilies=~AF_NETLINK' <<<"$sec" ||
	fail "with the first-boot drop-in the unit still lacks netlink"
mesh=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' <<<"$sec")
echo "package: exposure with the WireGuard drop-in $mesh"
awk -v a="$mesh" -v b="$theirs" 'BEGIN { exit !(a <= b) }' ||
	fail "with the drop-in ($mesh) more exposed than chrony.service ($theirs)"
if ! in_root systemd-analyze verify /lib/systemd/system/ntpnode.service \
	>"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
	cat "$work/verify.log" >&2
	fail "verify with the drop-in"
fi
in_root grep -q CAP_NET_ADMIN /etc/systemd/system/ntpnode.service.d/wireguard.conf ||
	fail "the drop-in link does not lead to the package's file"

# ---- the system-call filter, without systemd ----------------------------------
# The installed ntpnode, traced: a cluster member (init --no-run, then run)
# syncing from a second ntpnode, answering NTP and the control commands,
# holding over, stopping on SIGTERM. Every call it made must pass the
# unit's filter. (The WireGuard mesh's ip and wg are not run here.)
mkdir -p "$R/tmp/sc/up" "$R/tmp/sc/m"
printf '%s\n' "listen 127.0.0.1 port 12124" "local stratum 1" \
	"serve-threads 1" "ratelimit off" "datadir /tmp/sc/up" \
	"control /tmp/sc/up/ctl.sock" >"$R/tmp/sc/up.conf"
printf '%s\n' "listen 127.0.0.1 port 12125" "listen 127.0.0.2 port 12125" \
	"serve-threads 2" "datadir /tmp/sc/m" "control /tmp/sc/m/ctl.sock" \
	"cluster-listen 127.0.0.1 port 14460" \
	"upstream localhost port 12124 minpoll -3 maxpoll -3 iburst" \
	"leapfile /usr/share/zoneinfo/leap-seconds.list" "holdover 1" \
	>"$R/tmp/sc/m.conf"
nocap=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)
chroot "$R" "${nocap[@]}" ntpnode run -c /tmp/sc/up.conf >"$work/up.log" 2>&1 &
upstream=$!
trap 'kill "$upstream" 2>/dev/null || true' EXIT
in_root strace -f -qq -o /tmp/sc/init.st ntpnode init --no-run -c /tmp/sc/m.conf \
	>"$work/sc-init.log" 2>&1 || { cat "$work/sc-init.log" >&2; fail "traced init"; }
chroot "$R" strace -f -qq -o /tmp/sc/run.st "${nocap[@]}" \
	ntpnode run -c /tmp/sc/m.conf >"$work/sc-run.log" 2>&1 &
traced=$!
trap 'kill "$upstream" "$traced" 2>/dev/null || true' EXIT
ctl() { in_root ntpctl -s /tmp/sc/m/ctl.sock "$@"; }
for _ in $(seq 1 100); do
	grep -q "synchronized to" "$work/sc-run.log" && break
	sleep 0.1
done
grep -q "synchronized to" "$work/sc-run.log" ||
	{ cat "$work/sc-run.log" >&2; fail "traced: never synchronized"; }
ctl serverstats >/dev/null || fail "traced: serverstats"
ctl sources >/dev/null || fail "traced: sources"
ctl tracking >/dev/null || fail "traced: tracking"
ctl cluster status >/dev/null || fail "traced: cluster status"
ctl token create >/dev/null || fail "traced: token create"
ctl config set log-level debug >/dev/null || fail "traced: config set"
ctl loglevel info >/dev/null || fail "traced: loglevel"
ctl backup /tmp/sc/bk >/dev/null || fail "traced: backup"
kill "$upstream"    # holdover (1 s), then unsynchronized
wait "$upstream" 2>/dev/null || true
sleep 2.5
python3 - 12125 <<'PY' || fail "traced: no NTP answer"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(bytes([0x23]) + bytes(47), ("127.0.0.1", int(sys.argv[1])))
sys.exit(0 if len(s.recv(512)) >= 48 else 1)
PY
# (this namespace's /proc is the root's: the outer one is the machine's)
ntp_pid=$(tr -d ' ' <"$R/proc/$traced/task/$traced/children")
[ -n "$ntp_pid" ] || fail "traced: no ntpnode under strace"
kill -TERM "$ntp_pid"
wait "$traced" 2>/dev/null || true
trap - EXIT
python3 "$src/tests/integration/syscalls.py" \
	"$R/lib/systemd/system/ntpnode.service" "$R/tmp/sc/init.st" \
	"$R/tmp/sc/run.st" || fail "ntpnode makes calls the unit's filter refuses"

# ---- upgrades while the old daemon runs -------------------------------------
repack() { # VERSION -> /tmp/ntpmc-VERSION.deb: the same package, newer
	rm -rf "$work/re"
	dpkg-deb -R "$deb" "$work/re"
	sed -i "s/^Version: .*/Version: $1/" "$work/re/DEBIAN/control"
	dpkg-deb -b "$work/re" "$R/tmp/ntpmc-$1.deb" >/dev/null
}
port=12123
cat >"$R/etc/ntpnode/ntpnode.conf" <<EOF
listen 127.0.0.1 port $port
local stratum 10
serve-threads 1
control /run/ntpnode/ctl.sock
EOF
mkdir -p "$R/run/ntpnode"
in_root chown ntpnode:ntpnode /run/ntpnode
# the old daemon, as the unit would run it (without CAP_SYS_TIME)
chroot "$R" setpriv --reuid ntpnode --regid ntpnode --clear-groups \
	--inh-caps=-all --bounding-set=-all \
	/usr/sbin/ntpnode run -c /etc/ntpnode/ntpnode.conf >"$work/old.log" 2>&1 &
old=$!
trap 'kill "$old" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
	in_root ntpctl serverstats >/dev/null 2>&1 && break
	sleep 0.1
done
in_root ntpctl serverstats >/dev/null || { cat "$work/old.log" >&2; fail "the old daemon did not start"; }
mkdir -p "$R/run/systemd/system"        # as if systemd ran: scripts call it

repack "$version+up1"
: >"$R/tmp/systemctl.log"
in_root dpkg -i "/tmp/ntpmc-$version+up1.deb" >"$work/up1.log" 2>&1 ||
	{ cat "$work/up1.log" >&2; fail "upgrade with a good config"; }
grep -q 'try-restart ntpnode.service' <<<"$(calls)" ||
	{ cat "$work/up1.log" >&2; fail "a good config, yet no try-restart: $(calls)"; }

printf 'frobnicate yes\n' >>"$R/etc/ntpnode/ntpnode.conf"
repack "$version+up2"
: >"$R/tmp/systemctl.log"
in_root dpkg -i "/tmp/ntpmc-$version+up2.deb" >"$work/up2.log" 2>&1 ||
	{ cat "$work/up2.log" >&2; fail "upgrade with a bad config did not exit 0"; }
grep -q "unknown directive 'frobnicate'" "$work/up2.log" ||
	{ cat "$work/up2.log" >&2; fail "the upgrade did not print the config's errors"; }
grep -q "NOT restarted" "$work/up2.log" || fail "the upgrade did not say it kept the old daemon"
! grep -qE 'restart|stop' <<<"$(calls)" || fail "a bad config, yet: $(calls)"
[ "$(in_root dpkg-query -W -f='${Version}' ntpmc)" = "$version+up2" ] ||
	fail "dpkg does not record the new version as installed"
kill -0 "$old" || fail "the old daemon is gone"
in_root ntpctl serverstats >/dev/null || fail "the old daemon no longer answers ntpctl"
python3 - "$port" <<'PY' || fail "the old daemon no longer answers NTP"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(bytes([0x23]) + bytes(47), ("127.0.0.1", int(sys.argv[1])))
rep = s.recv(512)
sys.exit(0 if len(rep) >= 48 and rep[0] & 7 == 4 else 1)
PY
kill "$old"
wait "$old" 2>/dev/null || true
trap - EXIT

# ---- remove, purge ------------------------------------------------------------
sed -i '/^frobnicate/d' "$R/etc/ntpnode/ntpnode.conf"
: >"$R/tmp/systemctl.log"
in_root dpkg -r ntpmc >"$work/rm.log" 2>&1 || { cat "$work/rm.log" >&2; fail "dpkg -r"; }
grep -q 'stop ntpnode.service' <<<"$(calls)" ||
	fail "remove did not stop the unit: $(calls)"
[ ! -e "$R/usr/sbin/ntpnode" ] || fail "remove left /usr/sbin/ntpnode"
in_root dpkg --purge ntpmc >"$work/purge.log" 2>&1 || fail "dpkg --purge"
[ -d "$R/var/lib/ntpnode" ] || fail "purge removed the data directory"
in_root getent passwd ntpnode >/dev/null || fail "purge removed the user"
echo "package: ok"
