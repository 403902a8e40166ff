#!/usr/bin/env bash
# cloud-in-a-box: N "VMs" as network namespaces on one machine, joined by a
# shared "internet" namespace that also runs simulated upstream NTP servers
# (ntpsim) and the box's cloud (tests/e2e/cib/fakecloud.py: the metadata
# services, the secret stores, a signed Debian mirror, the package). Every
# VM boots the way a real one does: from the Debian package
# (tools/build-deb.sh) and the member's user data rendered from
# infra/cloud-init (render.py, the same substitution terraform makes),
# which runs infra/cloud-init/ntpmc-firstboot.sh in the VM's own root;
# real WireGuard (wireguard-go); ntpnode builds the mesh and serves NTP.
#
#   tools/cloud-in-a-box.sh [-n N] [-b BUILD_DIR] [-p DEB] [-a] [-k] [-s FILE]
#     -n N      VMs (default 3, at most 9)
#     -a        the VMs boot with no user data; infra/ansible/playbook.yml
#               (Debian's ansible-core, on this machine) installs, inits
#               and joins them instead, over its ssh connection with
#               tests/e2e/cib/vmssh as ssh
#     -b DIR    build tree with tools/ntpsim, tools/ntpprobe, tools/ntpctl
#               (default build/release)
#     -p DEB    the ntpmc package (default: the one in build/deb/)
#     -k        keep the work dir (logs, consoles) after the run
#     -s FILE   a scenario (tests/e2e/rotation-week.sh), sourced at the
#               start: cib_conf_extra I prints more config lines for VM I
#               (its user data's NTPMC_CONF), cib_scenario runs once the
#               VMs serve NTP over the mesh, instead of the leader kill
#               and re-address checks. The box's cloud starts and stops
#               VMs for their hook /usr/local/sbin/box-provider
#               (infra/providers/fake on the box's side, the VMs' fake
#               cloud in WORK/cloud: tests/e2e/cib/box-provider)
#
# Layout (everything exists only inside the namespaces made here):
#   internet ns: 10.250.0.1-3 on lo (ntpsim upstreams, port 123);
#                169.254.169.123 (AWS's NTP, ntpsim) and 169.254.169.254
#                (metadata over HTTP, GCP's NTP by the name
#                metadata.google.internal); 10.250.0.1:8080 (mirror and
#                package), :8081 (SSM and Secret Manager); one veth per
#                VM, 10.250.I.1/24, forwarding between them
#   VM I:        veth 10.250.I.2/24 (its "public" address), default route
#                to the internet ns; its own mount and UTS namespace whose
#                root is an overlay of this machine's root on a tmpfs
#                (tests/e2e/cib/vm.sh: the "image"); wg-ntp is
#                wireguard-go, started by ntpnode's own `ip link add`
#                (tests/e2e/cib/ip), which ntpnode then configures
#
# What happens: VM 1 (AWS) runs the first member's user data: install,
# `ntpnode init`, the service, then a single-use join token published to
# every other AWS VM's SSM parameter; the GCP VMs' tokens are published by
# the operator (here: this script) to their Secret Manager secrets. Every
# joiner takes its token once (the slot is emptied), joins as ntpnode
# with --no-run, starts the service. Checks, in order: init on AWS
# committed the wan profile (then set to lan: the checks below time
# failover in seconds), every first boot
# succeeded and left no token behind, every member a voter, NTP served on
# every VM's public address and over the overlay, the same mesh hash on
# every member; leader kill -> a new leader over the mesh; a VM whose
# public address changes (re-addressed veth, wireguard-go and ntpnode
# restarted: a VM stop/start; its ExecStartPre takes the new address from
# the metadata service) re-announces its endpoint: the mesh hash changes
# on every member, equal everywhere, and the VM is reachable again.
# Needs root (namespaces). Exit 0 ok, 1 failure, 77 cannot run here.
# Everything it creates it deletes, by PID and by name, also on failure;
# nothing is installed on this machine (dpkg and apt run in the VMs' roots).
set -euo pipefail

n=3
build=build/release
deb=""
keep=0
ansible=0
scenario=
while getopts "n:b:p:aks:" o; do
	case $o in
	n) n=$OPTARG ;;
	b) build=$OPTARG ;;
	p) deb=$OPTARG ;;
	a) ansible=1 ;;
	k) keep=1 ;;
	s) scenario=$OPTARG ;;
	*) sed -n '12,29p' "$0" >&2; exit 2 ;;
	esac
done
case $n in [2-9]) ;; *) echo "cloud-in-a-box: -n takes 2..9" >&2; exit 2 ;; esac

src=$(cd "$(dirname "$0")/.." && pwd)
cib=$src/tests/e2e/cib
[ -n "$deb" ] || deb=$(find "$src/build/deb" -maxdepth 1 -name "ntpmc_*.deb" 2>/dev/null | head -n 1)
[ -f "$deb" ] || { echo "cloud-in-a-box: no package (tools/build-deb.sh, or -p DEB)" >&2; exit 1; }
sim=$build/tools/ntpsim
probe=$build/tools/ntpprobe
ctlbin=$build/tools/ntpctl
for b in "$sim" "$probe" "$ctlbin"; do
	[ -x "$b" ] || { echo "cloud-in-a-box: $b not built" >&2; exit 1; }
done
skip() { echo "cloud-in-a-box: SKIP: $*" >&2; exit 77; }
if [ -n "$scenario" ]; then
	# shellcheck disable=SC1090
	. "$scenario"
fi
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip wg wireguard-go setpriv jq unshare nsenter gpg curl dpkg-query; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done
/usr/bin/python3 -c 'import yaml' 2>/dev/null || skip "Debian's python3-yaml is not installed"
[ "$ansible" = 0 ] || command -v ansible-playbook >/dev/null || skip "ansible-playbook is not installed"

tag=$(printf '%04x%02x' $((RANDOM)) $(($$ % 256)))
inet="cib${tag}i"
work=$(mktemp -d /tmp/ntpmc-cib.XXXXXX)
declare -a pids=() nss=() holder=()
t0=$(date +%s.%N)

log() { echo "[$(date -u +%H:%M:%S.%3N)] $*" >&2; }
elapsed() { awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }'; }

cleanup() {
	local p ns i
	# the VMs' logs live in their tmpfs roots: copied out before they go
	for i in "${!holder[@]}"; do
		for p in /var/log/ntpnode.log /run/box/systemctl.log /run/wireguard/wg-ntp.log; do
			cp "/proc/${holder[i]}/root$p" "$work/vm$i/" 2>/dev/null || true
		done
	done
	[ ! -d "$work/gnupg" ] || GNUPGHOME=$work/gnupg gpgconf --kill all 2>/dev/null || true
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	# safety net: whatever still runs inside our namespaces is ours
	for ns in "${nss[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null || true
		done
	done
	for ns in "${nss[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ "$keep" = 1 ]; then
		echo "cloud-in-a-box: logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	log "FAIL: $*"
	local f i
	for f in "$work"/*.log "$work"/*.console; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }
	done
	for i in "${!holder[@]}"; do
		f=/proc/${holder[i]}/root/var/log/ntpnode.log
		[ -s "$f" ] && { echo "--- VM $i: /var/log/ntpnode.log" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

# Never background this function: $! would be a subshell's PID, not the
# program's (ip netns exec and setpriv exec, so backgrounding them directly
# gives the program's own PID).
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
vm() { echo "cib${tag}v$1"; }

# --- the internet and the VMs ---------------------------------------------
ip netns add "$inet" 2>/dev/null || skip "cannot create a network namespace"
nss+=("$inet")
ip -n "$inet" link set lo up
inns "$inet" sysctl -qw net.ipv4.ip_forward=1
for a in 10.250.0.1 10.250.0.2 10.250.0.3 169.254.169.123 169.254.169.254; do
	ip -n "$inet" addr add "$a/32" dev lo
done

for i in $(seq "$n"); do
	ns=$(vm "$i")
	ip netns add "$ns"
	nss+=("$ns")
	ip -n "$ns" link set lo up
	# both ends are born inside our namespaces, never in the host's
	ip -n "$inet" link add "cib${tag}e$i" type veth peer name eth0 \
		netns "$ns"
	ip -n "$inet" addr add "10.250.$i.1/24" dev "cib${tag}e$i"
	ip -n "$inet" link set "cib${tag}e$i" up
	ip -n "$ns" addr add "10.250.$i.2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "10.250.$i.1"
done
log "namespaces up ($n VMs + internet)"

# --- simulated upstreams in the internet ----------------------------------
ip netns exec "$inet" "$sim" --seed 1 -s 10.250.0.1,port=123 \
	-s 10.250.0.2,port=123 -s 10.250.0.3,port=123 \
	-s 169.254.169.123,port=123 -s 169.254.169.254,port=123 \
	>"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 50); do
	grep -q '^ready' "$work/sim.out" && break
	sleep 0.1
done
grep -q '^ready' "$work/sim.out" || fail "ntpsim did not start"

# --- the box's cloud: metadata, secret stores, the package, a Debian mirror --
# The mirror: bookworm (empty) and bookworm-backports (libraft0 at the
# version this machine has, which the VMs' image therefore has too: apt
# selects it and downloads nothing), signed by a key made for this run.
mirror=$work/mirror
arch=$(dpkg --print-architecture)
for s in bookworm bookworm-backports; do
	mkdir -p "$mirror/debian/dists/$s/main/binary-$arch"
done
cp "$deb" "$mirror/ntpmc.deb"
# (its index entry is dpkg's own record of it: apt sees the version it has)
{
	dpkg-query -s libraft0 | grep -v '^Status:'
	echo "Filename: pool/main/r/raft/libraft0.deb"
	echo "Size: 1"
	echo "SHA256: $(printf x | sha256sum | cut -d' ' -f1)"
	echo
} >"$mirror/debian/dists/bookworm-backports/main/binary-$arch/Packages"
: >"$mirror/debian/dists/bookworm/main/binary-$arch/Packages"
export GNUPGHOME=$work/gnupg
mkdir -m 0700 "$GNUPGHOME"
gpg -q --batch --passphrase '' --quick-gen-key "cloud in a box $tag" ed25519 sign 1d 2>/dev/null
gpg -q --batch --export >"$work/box-archive.gpg"
for s in bookworm bookworm-backports; do
	d=$mirror/debian/dists/$s
	p=main/binary-$arch/Packages
	{
		echo "Origin: Debian"
		echo "Label: Debian${s#bookworm}"
		echo "Suite: $s"
		echo "Codename: $s"
		echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
		[ "$s" = bookworm ] || printf 'NotAutomatic: yes\nButAutomaticUpgrades: yes\n'
		echo "Architectures: $arch"
		echo "Components: main"
		echo "SHA256:"
		echo " $(sha256sum <"$d/$p" | cut -d' ' -f1) $(stat -c %s "$d/$p") $p"
	} >"$d/Release"
	gpg -q --batch --yes --clearsign -o "$d/InRelease" "$d/Release"
done

# VM I: AWS for VM 1 and the even ones, GCP for the others; VM 1 is the
# first member (init) and publishes a token to every other AWS VM's slot;
# the GCP VMs' tokens come from the operator (the box, below), as
# docs/deploy.md says for members in the other cloud.
provider_of() { if [ "$1" = 1 ] || [ $(($1 % 2)) = 0 ]; then echo aws; else echo gcp; fi; }
slot_of() {
	if [ "$(provider_of "$1")" = aws ]; then
		echo "aws-ssm:/ntpmc/box/join/vm$1"
	else
		echo "gcp-secret:projects/box-project/secrets/ntpmc-box-join-vm$1"
	fi
}
public_of=()
# the box cloud's view of VM I: what its metadata service says, and what
# its instance role / service account may do with the token slots
vm_state() {
	local i=$1 p put="[]" take
	p=$(provider_of "$i")
	if [ "$i" = 1 ]; then
		put=$(for j in $(seq 2 "$n"); do
			if [ "$(provider_of "$j")" = aws ]; then echo "/ntpmc/box/join/vm$j"; fi
		done | jq -R . | jq -s -c .)
		take="[]"
	else
		take=$(jq -n -c --arg s "${slot_of_name[i]}" '[$s]')
	fi
	jq -n -c --arg i "$i" --arg p "$p" --arg ip "${public_of[i]}" \
		--argjson put "$put" --argjson take "$take" '
		{($i): {provider: $p, public_ipv4: $ip, role: ("ntpmc-box-vm" + $i),
		 project: "box-project", may_put: $put, may_take: $take,
		 name: ("ntpmc-box-vm" + $i),
		 instance_id: (if $p == "aws" then "i-0b0x00000000000" + $i else "424242424242" + $i end),
		 region: (if $p == "aws" then "eu-north-1" else "us-central1" end),
		 zone: (if $p == "aws" then "eu-north-1a" else "us-central1-c" end)}}'
}
write_state() {
	local i
	for i in $(seq "$n"); do
		vm_state "$i"
	done | jq -s '{operator_token: "box-operator", vms: add}' >"$work/cloud.json.new"
	mv "$work/cloud.json.new" "$work/cloud.json"
}
declare -a slot_of_name=()
for i in $(seq "$n"); do
	public_of[i]=10.250.$i.2
	s=$(slot_of "$i")
	s=${s#aws-ssm:}
	slot_of_name[i]=${s#gcp-secret:}
done
write_state
jq -e . "$work/cloud.json" >/dev/null || fail "the box's cloud state is not JSON"
# (the VMs' start/stop API: the fake cloud's hook on the VMs in $work/cloud)
mkdir -p "$work/cloud"
ip netns exec "$inet" env BOX_FAKE_HOOK="$src/infra/providers/fake" \
	NTPMC_FAKE_CLOUD="$work/cloud" python3 "$cib/fakecloud.py" \
	"$work/cloud.json" "$mirror" >"$work/cloud.out" 2>"$work/cloud.log" &
pids+=($!)
for _ in $(seq 50); do
	grep -q '^ready' "$work/cloud.out" && break
	sleep 0.1
done
grep -q '^ready' "$work/cloud.out" || fail "fakecloud did not start"

# --- the VMs boot from the package and the rendered user data ---------------
# VM I's settings are the terraform module's (infra/terraform/modules/
# member) with the box's values: its upstreams are the simulated ones,
# `discipline virtual` (no daemon here touches the clock), one serving
# thread and no rate limit for the checks' probes, the secret stores'
# endpoints in the box's internet. The GCP VMs boot from the startup-script
# rendering (Google's images run the guest agent), the AWS ones from the
# cloud-config.
sha=$(sha256sum "$deb" | cut -d' ' -f1)
for i in $(seq "$n"); do
	p=$(provider_of "$i")
	mkdir -p "$work/vm$i/mnt"
	publish="[]"
	if [ "$i" = 1 ]; then
		publish=$(for j in $(seq 2 "$n"); do
			if [ "$(provider_of "$j")" = aws ]; then slot_of "$j"; fi
		done | jq -R . | jq -s -c .)
	fi
	extra="[]"
	if declare -F cib_conf_extra >/dev/null; then
		extra=$(cib_conf_extra "$i" | jq -R . | jq -s -c .)
	fi
	jq -n --arg role "$([ "$i" = 1 ] && echo init || echo join)" \
		--arg name "vm$i" --arg p "$p" --arg sha "$sha" \
		--arg slot "$([ "$i" = 1 ] || slot_of "$i")" --argjson publish "$publish" \
		--argjson extra "$extra" '
		{NTPMC_ROLE: $role, NTPMC_NODE_NAME: $name, NTPMC_PROVIDER: $p,
		 NTPMC_PACKAGE_URL: "http://10.250.0.1:8080/ntpmc.deb",
		 NTPMC_PACKAGE_SHA256: $sha,
		 NTPMC_UPSTREAM: ["10.250.0.1", "10.250.0.2", "10.250.0.3"],
		 NTPMC_DISCIPLINE: "virtual", NTPMC_WG_INTERFACE: "wg-ntp",
		 NTPMC_CONF: (["serve-threads 1", "ratelimit off",
			       "crosscheck-interval 1"] + $extra),
		 NTPMC_SSM_ENDPOINT: "http://10.250.0.1:8081",
		 NTPMC_SECRETS_ENDPOINT: "http://10.250.0.1:8081"}
		+ (if $role == "init" then {NTPMC_PUBLISH: $publish}
		   else {NTPMC_TOKEN_SLOT: $slot, NTPMC_TOKEN_WAIT: "120"} end)' \
		>"$work/vm$i/settings.json"
	tpl=$src/infra/cloud-init/ntpmc-member.yaml.tftpl
	[ "$p" = gcp ] && tpl=$src/infra/cloud-init/ntpmc-startup.sh.tftpl
	python3 "$src/infra/cloud-init/render.py" "$tpl" "$work/vm$i/settings.json" \
		>"$work/vm$i/user-data" || fail "rendering VM $i's user data"
	# -a: an image without user data (the playbook does the first boot)
	[ "$ansible" = 0 ] || printf '#!/bin/sh\nexit 0\n' >"$work/vm$i/user-data"
	ip netns exec "$(vm "$i")" unshare --mount --uts --propagation private \
		"$cib/vm.sh" "$work/vm$i" "$i" "$work/box-archive.gpg" \
		>"$work/vm$i.console" 2>&1 &
	holder[i]=$!
	pids+=($!)
	echo "${holder[i]}" >"$work/vm$i.holder"
done
log "$n VMs booting ($(for i in $(seq "$n"); do printf '%s ' "$(provider_of "$i")"; done)| user data $(stat -c %s "$work/vm1/user-data") bytes)"

# in_vm I CMD...: CMD inside VM I (its root, mounts, network), as root
in_vm() {
	local i=$1
	shift
	nsenter -t "${holder[i]}" -m -u -n -r -w /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
vmfile() { echo "/proc/${holder[$1]}/root$2"; }
booted() { [ -s "$(vmfile "$1" /run/box/boot.rc)" ]; }
boot_ok() { [ "$(cat "$(vmfile "$1" /run/box/boot.rc)")" = 0 ]; }

if [ "$ansible" = 1 ]; then
	for i in $(seq "$n"); do
		end=$(($(date +%s) + 30))
		until booted "$i"; do
			[ "$(date +%s)" -lt "$end" ] || fail "VM $i did not boot"
			sleep 0.2
		done
	done
	# the inventory: infra/ansible/inventory.example.yml with the box's
	# values (vmssh reaches VM I as host vmI; root already, so no become)
	{
		echo "all:"
		echo "  vars:"
		echo "    ansible_become: false"
		echo "    ansible_python_interpreter: /usr/bin/python3"
		echo "    ntpmc_package_url: http://10.250.0.1:8080/ntpmc.deb"
		echo "    ntpmc_package_sha256: \"$sha\""
		echo "    ntpmc_upstreams: [10.250.0.1, 10.250.0.2, 10.250.0.3]"
		echo "    ntpmc_discipline: virtual"
		echo "    ntpmc_extra_config: [serve-threads 1, ratelimit off, crosscheck-interval 1]"
		echo "  children:"
		echo "    ntpmc_first:"
		echo "      hosts:"
		echo "        vm1: {ntpmc_provider: $(provider_of 1)}"
		echo "    ntpmc_join:"
		echo "      hosts:"
		for i in $(seq 2 "$n"); do
			echo "        vm$i: {ntpmc_provider: $(provider_of "$i")}"
		done
	} >"$work/inventory.yml"
	# ansible-playbook with the box's ssh and nothing from this machine's
	# or the user's Ansible configuration
	: >"$work/ansible.cfg"
	playbook() {
		CIB_WORK=$work ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_SSH_EXECUTABLE=$cib/vmssh \
			ANSIBLE_SSH_TRANSFER_METHOD=piped ANSIBLE_HOST_KEY_CHECKING=False \
			ANSIBLE_PIPELINING=True ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False \
			ANSIBLE_LOCAL_TEMP=$work/ansible-local ANSIBLE_SSH_CONTROL_PATH_DIR=$work/ansible-cp \
			ansible-playbook -i "$work/inventory.yml" "$src/infra/ansible/playbook.yml"
	}
	t_ans=$(elapsed)
	playbook >"$work/ansible.log" 2>&1 || { tail -n 40 "$work/ansible.log" >&2; fail "ansible-playbook"; }
	grep -E '^(vm[0-9]+ +:)' "$work/ansible.log" >&2 || true
	log "the playbook brought up $n members in $(awk -v a="$(elapsed)" -v b="$t_ans" 'BEGIN { printf "%.1f", a - b }') s"
	# a second run changes nothing (every first boot is done)
	playbook >"$work/ansible2.log" 2>&1 || { tail -n 40 "$work/ansible2.log" >&2; fail "ansible-playbook, again"; }
	grep -qE 'changed=[1-9]' "$work/ansible2.log" && { grep -E '^vm' "$work/ansible2.log" >&2; fail "the second playbook run changed something"; }
fi

# VM 1 up: the operator publishes the GCP VMs' tokens (gcloud secrets
# versions add, against the box's Secret Manager)
ctl() { local i=$1; shift; timeout 5 "$ctlbin" -s "$(vmfile "$i" /run/ntpnode/ctl.sock)" "$@"; }
status() { ctl "$1" -o json cluster status 2>/dev/null; }
end=$(($(date +%s) + 120))
until booted 1; do
	[ "$(date +%s)" -lt "$end" ] || fail "VM 1 did not finish its first boot"
	kill -0 "${holder[1]}" 2>/dev/null || fail "VM 1 died"
	sleep 0.5
done
boot_ok 1 || fail "VM 1's first boot failed"
[ "$ansible" = 1 ] || log "VM 1 created the cluster at $(elapsed) s"
# init on an AWS VM commits the wan profile (docs/cost.md); the box's
# checks time failover, the mesh and the cross-check in seconds, so the
# operator switches to lan at runtime (the switch never causes an election)
ctl 1 config get cluster-profile | grep -q '^cluster-profile wan (replicated)' ||
	fail "init on AWS did not commit cluster-profile wan"
ctl 1 config set cluster-profile lan >/dev/null || fail "config set cluster-profile lan"
# publish I TOKEN: what `gcloud secrets versions add` does, as the operator
publish() {
	printf '{"payload": {"data": "%s"}}' "$(printf '%s' "$2" | base64 -w0)" |
		ip netns exec "$inet" curl -fsS -m 5 -H 'Authorization: Bearer box-operator' \
			--data-binary @- \
			"http://10.250.0.1:8081/v1/projects/box-project/secrets/ntpmc-box-join-vm$1:addVersion" \
			>/dev/null || fail "publishing VM $1's token"
}
# The first GCP VM first gets an empty token (a slip of the operator's):
# its first boot must stop with one line and join nothing; the runbook
# ("A VM that will not join") then publishes a good token and runs the
# first boot again, which completes.
bad=0
for i in $(seq 2 "$n"); do
	[ "$ansible" = 0 ] || break
	[ "$(provider_of "$i")" = gcp ] || continue
	if [ "$bad" = 0 ]; then
		bad=$i
		publish "$i" ""
		continue
	fi
	t=$(ctl 1 token create --ttl 30m) || fail "token create on VM 1"
	publish "$i" "$t"
done
unset t
if [ "$bad" != 0 ]; then
	end=$(($(date +%s) + 120))
	until booted "$bad"; do
		[ "$(date +%s)" -lt "$end" ] || fail "VM $bad did not give up on its empty token"
		sleep 0.5
	done
	boot_ok "$bad" && fail "VM $bad's first boot took an empty token"
	if [ "$(grep -c 'FAILED' "$work/vm$bad.console")" != 1 ] ||
		! grep -q "^ntpmc-firstboot: FAILED: the join token taken from .* is empty$" "$work/vm$bad.console"; then
		fail "VM $bad: not one clear line about the empty token"
	fi
	status 1 | jq -e --arg v "vm$bad" '[.members[] | select(.name == $v)] | length == 0' >/dev/null ||
		fail "VM $bad is a member after a failed first boot"
	log "VM $bad: $(grep FAILED "$work/vm$bad.console")"
	t=$(ctl 1 token create --ttl 30m) || fail "token create on VM 1"
	publish "$bad" "$t"
	unset t
	in_vm "$bad" /usr/local/sbin/ntpmc-firstboot /etc/ntpmc/firstboot.env \
		>>"$work/vm$bad.console" 2>&1 || fail "VM $bad: the first boot run again failed"
	log "VM $bad: the first boot run again with a good token completed"
fi
end=$(($(date +%s) + 150))
for i in $(seq "$n"); do
	until booted "$i"; do
		[ "$(date +%s)" -lt "$end" ] || fail "VM $i did not finish its first boot"
		kill -0 "${holder[i]}" 2>/dev/null || fail "VM $i died"
		sleep 0.5
	done
	[ "$i" = "$bad" ] || boot_ok "$i" || fail "VM $i's first boot failed"
	[ "$(cat "$(vmfile "$i" /var/lib/ntpmc/firstboot.state)")" = "done" ] ||
		fail "VM $i: firstboot.state is not done"
done
log "$n VMs booted from the package and their $([ "$ansible" = 1 ] && echo playbook || echo "user data") at $(elapsed) s"
# no token is left on any VM, and no slot still holds one
for i in $(seq "$n"); do
	[ ! -e "$(vmfile "$i" /run/ntpmc-join)" ] || fail "VM $i kept the token's directory"
	[ ! -e "$(vmfile "$i" /run/ntpmc-join-token)" ] || fail "VM $i kept the playbook's token file"
done
left=$(ip netns exec "$inet" curl -fsS -m 5 http://10.250.0.1:8081/_box/slots) ||
	fail "asking the box's secret stores"
[ "$left" = "[]" ] || fail "join tokens left in their slots: $left"
grep -q 'ntpnode.service' "$(vmfile 1 /run/box/systemctl.log)" ||
	fail "VM 1 did not start ntpnode.service"

# ntp_ok NS ADDR: one answer with LI != 3 (synchronized) within 1 s
# (--interval: ntpprobe sleeps one interval after its last query)
ntp_ok() {
	local line
	line=$(inns "$1" "$probe" -a "$2" -p 123 --count 1 --timeout 1 \
		--interval 0.01 \
		2>/dev/null | head -n 1) || return 1
	local -a f
	read -r -a f <<<"$line"
	[ "${#f[@]}" -ge 5 ] && [ "${f[2]}" != 3 ]
}

# wait_all DESC SECS CHECK...: polls until every VM passes CHECK VM_INDEX
wait_all() {
	local desc=$1 secs=$2 i ok end
	shift 2
	end=$(($(date +%s) + secs))
	while :; do
		ok=1
		for i in $(seq "$n"); do
			"$@" "$i" || { ok=0; break; }
		done
		[ $ok = 1 ] && return 0
		[ "$(date +%s)" -lt "$end" ] || fail "$desc: VM $i not there after ${secs}s"
		sleep 0.2
	done
}
voters() {
	status "$1" | jq '[.members[] | select(.role == "voter")] | length' \
		2>/dev/null || echo 0
}
all_voters() { [ "$(voters "$1")" = "$n" ]; }
# overlay I: VM I's overlay address, from the membership (its raft address)
overlay() {
	status 1 | jq -r '.members[] | select(.name == "vm'"$1"'") |
		.address | sub(":[0-9]+$"; "")' 2>/dev/null
}
# mesh_of I: the one mesh hash every member reports in VM I's status ("" if
# some member has none yet or they differ)
mesh_of() {
	status "$1" | jq -r --argjson n "$n" '[.members[].mesh] |
		if length == $n and all(. != null) and (unique | length) == 1
		then .[0] else "" end' 2>/dev/null
}
public_ntp() { ntp_ok "$inet" "10.250.$1.2"; }
# VM I asks the next VM's ntpnode through the WireGuard overlay
overlay_ntp() {
	local j=$(($1 % n + 1))
	ntp_ok "$(vm "$1")" "${ov[j]}"
}
same_mesh() { local m; m=$(mesh_of "$1"); [ -n "$m" ] && [ "$m" = "$want_mesh" ]; }
# the cross-check found every other member (over the overlay: the members'
# NTP host is their overlay address) and the member agrees with them
xc_ok() {
	ctl "$1" -o json tracking | jq -e --argjson p $((n - 1)) \
		'.crosscheck.verdict == "ok" and .crosscheck.peers == $p' \
		>/dev/null
}

wait_all "cluster status with every voter" 30 all_voters
log "$n voters at $(elapsed) s"
declare -a ov=()
for i in $(seq "$n"); do
	ov[i]=$(overlay "$i")
	[ -n "${ov[i]}" ] || fail "VM $i has no overlay address"
done
wait_all "NTP on the public address" 30 public_ntp
log "NTP served (LI != 3) on every public address at $(elapsed) s"
wait_all "NTP over the overlay" 15 overlay_ntp
t_ready=$(elapsed)
log "$n voters serving NTP over WireGuard: $t_ready s from nothing (overlays ${ov[*]})"

want_mesh=$(mesh_of 1)
[ -n "$want_mesh" ] || {
	sleep 1
	want_mesh=$(mesh_of 1)
}
[ -n "$want_mesh" ] || fail "members report different or no mesh hashes"
wait_all "the same mesh hash from every VM's status" 10 same_mesh
mesh1=$want_mesh
for i in $(seq "$n"); do
	[ "$(in_vm "$i" wg show wg-ntp peers | wc -l)" = $((n - 1)) ] ||
		fail "VM $i: wg show lacks peers"
done
log "mesh $mesh1 on every member (wg show: $((n - 1)) peers each)"
wait_all "the cross-check ok with every other member" 20 xc_ok
log "cross-check: every member ok with $((n - 1)) peers, over the overlay"
# the subnet is recorded at init and fixed: config set refuses it
ctl 1 config get overlay-subnet | grep -q '192.168.10.0/24' ||
	fail "overlay-subnet is not recorded"
if out=$(ctl 2 config set overlay-subnet 10.99.0.0/16 2>&1); then
	fail "config set overlay-subnet was accepted"
fi
echo "$out" | grep -q "fixed when the cluster is made" ||
	fail "config set overlay-subnet: unexpected answer: $out"
ctl 1 cluster status >&2 || true

if declare -F cib_scenario >/dev/null; then
	cib_scenario
	exit 0
fi

# --- leader kill -> a new leader over the mesh -----------------------------
leader_of() { status "$1" | jq -r '.leader_id // empty' 2>/dev/null; }
old=$(leader_of 1)
li=0
for i in $(seq "$n"); do
	status "$i" | jq -e '.members[] | select(.is_leader and .name == "vm'"$i"'")' \
		>/dev/null 2>&1 && li=$i
done
[ "$li" != 0 ] || fail "no member says it is the leader"
t_kill=$(elapsed)
kill -9 "$(cat "$(vmfile "$li" /run/box/ntpnode.service.pid)")"
new_leader() {
	[ "$1" = "$li" ] && return 0
	local l
	l=$(leader_of "$1")
	[ -n "$l" ] && [ "$l" != "$old" ]
}
wait_all "a new leader after killing VM $li's" 15 new_leader
t_new=$(awk -v a="$(elapsed)" -v b="$t_kill" 'BEGIN { printf "%.1f", a - b }')
log "VM $li (leader) killed: new leader after $t_new s (status poll every 0.2 s)"
# (systemd's Restart=on-failure would do this after 2 s)
in_vm "$li" systemctl start ntpnode.service || fail "restarting VM $li's ntpnode"
all_reachable() {
	[ "$(status "$1" | jq '[.members[] | select(.reachable)] | length' \
		2>/dev/null)" = "$n" ]
}
wait_all "every member reachable after the restart" 20 all_reachable

# --- a VM gets a new public address (stop/start in a cloud) ----------------
# The whole VM restarts: ntpnode and wireguard-go (a new, empty interface):
# ntpnode applies the mesh it saved before its log is replayed. The
# metadata service now gives the new address, and the unit's ExecStartPre
# (the package's ntpnode-public-ip) writes it into cluster-advertise.
i=$n
in_vm "$i" systemctl stop ntpnode.service
kill "$(cat "$(vmfile "$i" /run/wireguard/wg-ntp.pid)")"
ns=$(vm "$i")
for _ in $(seq 50); do
	ip -n "$ns" link show wg-ntp >/dev/null 2>&1 || break
	sleep 0.1
done
ip -n "$ns" link show wg-ntp >/dev/null 2>&1 && fail "VM $i's wireguard-go did not stop"
ip -n "$ns" addr flush dev eth0
ip -n "$ns" addr add "10.250.$i.3/24" dev eth0
ip -n "$ns" route replace default via "10.250.$i.1"
public_of[i]=10.250.$i.3
write_state
t_readdr=$(elapsed)
in_vm "$i" systemctl start ntpnode.service || fail "starting VM $i's ntpnode again"
grep -q "^cluster-advertise 10.250.$i.3 " "$(vmfile "$i" /etc/ntpnode/ntpnode.conf)" ||
	fail "ntpnode-public-ip did not write VM $i's new address into its config"
# it re-announces its endpoint: a new membership record, which every member
# applies (wg syncconf changes only that peer)
changed_mesh() {
	local m
	m=$(mesh_of "$1")
	[ -n "$m" ] && [ "$m" != "$mesh1" ] && { [ -z "$want_mesh" ] || [ "$m" = "$want_mesh" ]; }
}
want_mesh=""
wait_all "a new mesh hash after re-addressing VM $i" 20 changed_mesh
want_mesh=$(mesh_of 1)
wait_all "the same new mesh hash from every VM's status" 10 same_mesh
for j in $(seq "$n"); do
	[ "$j" = "$i" ] && continue
	in_vm "$j" wg show wg-ntp endpoints |
		grep -q "10.250.$i.3:51820" ||
		fail "VM $j does not use VM $i's new endpoint"
done
wait_all "NTP over the overlay after re-addressing" 15 overlay_ntp
ntp_ok "$inet" "10.250.$i.3" || fail "no NTP on VM $i's new public address"
wait_all "every member reachable after the re-address" 20 all_reachable
log "VM $i re-addressed: endpoint re-announced, mesh $mesh1 -> $want_mesh on every member in $(awk -v a="$(elapsed)" -v b="$t_readdr" 'BEGIN { printf "%.1f", a - b }') s, NTP over the overlay again"
ctl 1 cluster status >&2 || true

echo "cloud-in-a-box: OK: $n VMs, $n voters serving NTP over WireGuard $t_ready s from nothing; leader kill -> new leader $t_new s; total $(elapsed) s"
