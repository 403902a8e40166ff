#!/usr/bin/env bash
# One cloud-in-a-box VM: boots a "Debian 12 image" and runs its user data,
# then stays as the VM's holder process (the box enters it with nsenter).
# Run by tools/cloud-in-a-box.sh inside the VM's network namespace and a
# new mount and UTS namespace:
#   ip netns exec NS unshare --mount --uts --propagation private \
#     vm.sh DIR INDEX KEYRING
# DIR/user-data is the rendered user data; KEYRING the box mirror's key.
# The image: an overlay of this machine's root on a tmpfs (nothing written
# reaches the machine), with what a cloud image has and the box lacks: its
# own /run and /tmp, one apt source (the box's Debian mirror, signed),
# /etc/hosts naming metadata.google.internal as GCP images do, a resolver
# that answers nothing, systemctl for a machine without systemd as PID 1
# (tests/e2e/cib/systemctl), and an ip(8) that starts wireguard-go for
# the WireGuard kernel module the box cannot load (tests/e2e/cib/ip). Then the user data runs as cloud-init or
# GCP's guest agent would run it (tests/e2e/cib/cloud-init-lite.py); its
# output is the VM's console (this script's stdout), its exit code goes
# to /run/box/boot.rc.
set -euo pipefail
dir=$1
i=$2
keyring=$3
cib=$(cd "$(dirname "$0")" && pwd)

mount -t tmpfs -o mode=0755 tmpfs "$dir/mnt"
mkdir -p "$dir/mnt/upper" "$dir/mnt/work" "$dir/mnt/root"
mount -t overlay overlay \
	-o "lowerdir=/,upperdir=$dir/mnt/upper,workdir=$dir/mnt/work" "$dir/mnt/root"
R=$dir/mnt/root
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R/run/box" "$R/run/lock" "$R/box"
hostname "vm$i"
echo "vm$i" >"$R/etc/hostname"

# the image's apt: the box's mirror only, as a cloud image's own source
rm -f "$R/etc/apt/sources.list" "$R"/etc/apt/sources.list.d/*
cp "$keyring" "$R/usr/share/keyrings/box-archive.gpg"
cat >"$R/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://10.250.0.1:8080/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/box-archive.gpg
EOF
rm -f "$R/usr/sbin/policy-rc.d" "$R/etc/resolv.conf" "$R/etc/hosts"
echo "nameserver 127.0.0.1" >"$R/etc/resolv.conf"
printf '%s\n' "127.0.0.1 localhost" "10.250.$i.2 vm$i" \
	"169.254.169.254 metadata.google.internal" >"$R/etc/hosts"
install -m 0755 "$cib/systemctl" "$R/usr/local/sbin/systemctl"
# the box cloud's provider hook (box-provider: start, stop, status of VMs)
install -m 0755 "$cib/box-provider" "$R/usr/local/sbin/box-provider"
install -m 0755 "$cib/cloud-init-lite.py" "$R/box/cloud-init-lite.py"
install -m 0600 "$dir/user-data" "$R/box/user-data"

in_vm() {
	chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
# the WireGuard "kernel module": an interface ntpnode then configures
# the WireGuard "kernel module": an ip(8) that starts wireguard-go for
# `ip link add ... type wireguard`, in the caller's name; a /dev/net/tun of
# the VM's own that the unprivileged ntpnode user may open (the machine's
# stays as it is), and /run/wireguard that it may write
mkdir -p "$R/run/wireguard"
chmod 1777 "$R/run/wireguard"
mount -t tmpfs -o mode=0755 tmpfs "$R/dev/net"
mknod -m 0666 "$R/dev/net/tun" c 10 200
install -m 0755 "$cib/ip" "$R/usr/local/sbin/ip"

echo "vm$i: booting the user data"
rc=0
in_vm /usr/bin/python3 /box/cloud-init-lite.py /box/user-data 2>&1 || rc=$?
echo "$rc" >"$R/run/box/boot.rc"
echo "vm$i: user data finished, exit $rc"
exec chroot "$R" /bin/sleep infinity
