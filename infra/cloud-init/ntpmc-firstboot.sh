#!/bin/bash
# ntpmc-firstboot: takes a fresh Debian 12 VM to a serving NTP-MC member,
# once. cloud-init's runcmd runs it (infra/cloud-init/ntpmc-member.yaml.tftpl
# writes it and its settings), so does the Ansible playbook, and so does the
# cloud in a box (tools/cloud-in-a-box.sh): one path for all three.
#
#   ntpmc-firstboot [ENV_FILE]     (default /etc/ntpmc/firstboot.env)
#
# ENV_FILE holds KEY=VALUE lines, read as data, never sourced:
#   NTPMC_ROLE           init (the first member: creates the cluster) | join
#   NTPMC_NODE_NAME      the member's name
#   NTPMC_PROVIDER       aws | gcp (which metadata service to ask)
#   NTPMC_PACKAGE_URL    the ntpmc .deb (tools/build-deb.sh), http(s)
#   NTPMC_PACKAGE_SHA256 its SHA-256 (optional; checked when given)
#   NTPMC_UPSTREAM       one upstream server per line (never pool.ntp.org)
#   NTPMC_DISCIPLINE     kernel | virtual (default kernel)
#   NTPMC_CLUSTER_PORT   default 4460
#   NTPMC_WG_INTERFACE   the WireGuard interface ntpnode manages ("" = no mesh)
#   NTPMC_WG_PORT        default 51820
#   NTPMC_OVERLAY_SUBNET init only: the overlay (default: ntpnode's)
#   NTPMC_TOKEN_SLOT     join: where the join token will be put, once:
#                        aws-ssm:/PARAMETER, gcp-secret:projects/P/secrets/S
#                        or file:/PATH (Ansible, by hand)
#   NTPMC_TOKEN_WAIT     join: seconds to wait for the token (default 1800)
#   NTPMC_PUBLISH        init: one slot per line; each gets its own
#                        single-use token once the cluster runs
#   NTPMC_TOKEN_TTL      init: lifetime of those tokens (default 30m)
#   NTPMC_CONF           one more config line per line (metrics-listen, ...)
#   NTPMC_EXTRA_DEB_URL  one more package to install (AWS: the SSM agent)
#   NTPMC_SSM_ENDPOINT, NTPMC_SECRETS_ENDPOINT   the APIs' base URLs
#                        (default: the region's public endpoints)
#
# The join token never enters the user data, the console or a disk: it is
# read from its slot, the slot is deleted at once (fetched once), the token
# lives in a tmpfs file that only ntpnode can read while `ntpnode join
# --no-run` runs as ntpnode, and is removed after it. Every broken input
# stops the script before anything is installed or joined, with one line
# "ntpmc-firstboot: FAILED: ..." on the console (cloud-init copies runcmd's
# output there and to /var/log/cloud-init-output.log); the outcome is also
# in /var/lib/ntpmc/firstboot.state. docs/deploy.md has the runbook.
set -euo pipefail
umask 022

env_file=${1:-/etc/ntpmc/firstboot.env}
state_dir=/var/lib/ntpmc
conf=/etc/ntpnode/ntpnode.conf
md=http://169.254.169.254
tmp=""

say() { echo "ntpmc-firstboot: $*"; }
die() {
	echo "ntpmc-firstboot: FAILED: $*" >&2
	{ mkdir -p "$state_dir" && echo "failed: $*" >"$state_dir/firstboot.state"; } 2>/dev/null || true
	exit 1
}
cleanup() {
	# the token's tmpfs copy and the API scratch files, whatever happened
	rm -rf /run/ntpmc-join
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || die "must run as root"
# cloud-init (user-data) and the guest agent (startup-script) may both run
# it on an image that has both: one at a time, and the second finds it done
mkdir -p /run/lock
exec 9>/run/lock/ntpmc-firstboot
flock 9
if [ -f "$state_dir/firstboot.state" ] &&
	[ "$(cat "$state_dir/firstboot.state")" = "done" ]; then
	say "already done (remove $state_dir/firstboot.state to run again)"
	exit 0
fi
[ -r "$env_file" ] || die "no settings file $env_file"

# ---- settings: KEY=VALUE lines; the repeatable keys collect lines ---------
ROLE="" NODE_NAME="" PROVIDER="" PACKAGE_URL="" PACKAGE_SHA256=""
DISCIPLINE=kernel CLUSTER_PORT=4460 WG_INTERFACE="" WG_PORT=51820
OVERLAY_SUBNET="" TOKEN_SLOT="" TOKEN_WAIT=1800 TOKEN_TTL=30m
UPSTREAMS="" PUBLISH="" CONFLINES=""
SSM_ENDPOINT="" SECRETS_ENDPOINT="" EXTRA_DEB_URL=""
n=0
while IFS= read -r line || [ -n "$line" ]; do
	n=$((n + 1))
	case $line in '' | '#'*) continue ;; esac
	key=${line%%=*}
	val=${line#*=}
	[ "$key" != "$line" ] || die "$env_file:$n: not KEY=VALUE"
	case $key in
	NTPMC_ROLE) ROLE=$val ;;
	NTPMC_NODE_NAME) NODE_NAME=$val ;;
	NTPMC_PROVIDER) PROVIDER=$val ;;
	NTPMC_PACKAGE_URL) PACKAGE_URL=$val ;;
	NTPMC_PACKAGE_SHA256) PACKAGE_SHA256=$val ;;
	NTPMC_DISCIPLINE) DISCIPLINE=$val ;;
	NTPMC_CLUSTER_PORT) CLUSTER_PORT=$val ;;
	NTPMC_WG_INTERFACE) WG_INTERFACE=$val ;;
	NTPMC_WG_PORT) WG_PORT=$val ;;
	NTPMC_OVERLAY_SUBNET) OVERLAY_SUBNET=$val ;;
	NTPMC_TOKEN_SLOT) TOKEN_SLOT=$val ;;
	NTPMC_TOKEN_WAIT) TOKEN_WAIT=$val ;;
	NTPMC_TOKEN_TTL) TOKEN_TTL=$val ;;
	NTPMC_UPSTREAM) UPSTREAMS+="$val"$'\n' ;;
	NTPMC_PUBLISH) PUBLISH+="$val"$'\n' ;;
	NTPMC_CONF) CONFLINES+="$val"$'\n' ;;
	NTPMC_SSM_ENDPOINT) SSM_ENDPOINT=$val ;;
	NTPMC_SECRETS_ENDPOINT) SECRETS_ENDPOINT=$val ;;
	NTPMC_EXTRA_DEB_URL) EXTRA_DEB_URL=$val ;;
	*) die "$env_file:$n: unknown setting '$key'" ;;
	esac
done <"$env_file"

# ---- every input checked before anything changes ----------------------------
port_ok() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
slot_ok() {
	case $1 in
	aws-ssm:/?*) [ "$PROVIDER" = aws ] ;;
	gcp-secret:projects/?*/secrets/?*) [ "$PROVIDER" = gcp ] ;;
	file:/?*) return 0 ;;
	*) return 1 ;;
	esac
}
case $ROLE in init | join) ;; "") die "NTPMC_ROLE is empty (init or join)" ;;
*) die "unknown role '$ROLE' (init or join)" ;; esac
case $PROVIDER in aws | gcp) ;; "") die "NTPMC_PROVIDER is empty (aws or gcp)" ;;
*) die "unknown provider '$PROVIDER' (aws or gcp)" ;; esac
case $NODE_NAME in '' | *[!A-Za-z0-9._-]*) die "bad node name '$NODE_NAME' (letters, digits, . _ -)" ;; esac
case $PACKAGE_URL in http://?* | https://?*) ;; *) die "NTPMC_PACKAGE_URL '$PACKAGE_URL' is not an http(s) URL" ;; esac
case $EXTRA_DEB_URL in "" | https://?*) ;; *) die "NTPMC_EXTRA_DEB_URL '$EXTRA_DEB_URL' is not an https URL" ;; esac
case $PACKAGE_SHA256 in "" | [0-9a-f]*) ;; *) die "NTPMC_PACKAGE_SHA256 is not hex" ;; esac
[ -z "$PACKAGE_SHA256" ] || [ ${#PACKAGE_SHA256} = 64 ] || die "NTPMC_PACKAGE_SHA256 is not 64 hex digits"
case $DISCIPLINE in kernel | virtual) ;; *) die "NTPMC_DISCIPLINE '$DISCIPLINE' (kernel or virtual)" ;; esac
port_ok "$CLUSTER_PORT" || die "NTPMC_CLUSTER_PORT '$CLUSTER_PORT' is not a port"
port_ok "$WG_PORT" || die "NTPMC_WG_PORT '$WG_PORT' is not a port"
case $WG_INTERFACE in *[!A-Za-z0-9_-]*) die "bad NTPMC_WG_INTERFACE '$WG_INTERFACE'" ;; esac
[ -n "$UPSTREAMS" ] || die "no NTPMC_UPSTREAM: a member needs upstream servers"
while IFS= read -r u; do
	[ -n "$u" ] || continue
	case $u in
	*pool.ntp.org) die "upstream $u: pool servers must not sync from pool.ntp.org (docs/pool.md)" ;;
	*[!A-Za-z0-9.:-]*) die "bad upstream '$u'" ;;
	esac
done <<<"$UPSTREAMS"
if [ "$ROLE" = join ]; then
	[ -n "$TOKEN_SLOT" ] || die "NTPMC_TOKEN_SLOT is empty: a joining member needs its token's slot"
	slot_ok "$TOKEN_SLOT" || die "bad NTPMC_TOKEN_SLOT '$TOKEN_SLOT' for provider $PROVIDER"
	port_ok "$TOKEN_WAIT" || die "NTPMC_TOKEN_WAIT '$TOKEN_WAIT' is not a number of seconds"
else
	while IFS= read -r s; do
		[ -z "$s" ] || slot_ok "$s" || die "bad NTPMC_PUBLISH slot '$s' for provider $PROVIDER"
	done <<<"$PUBLISH"
fi
for t in curl setpriv apt-get dpkg-query sha256sum; do
	command -v "$t" >/dev/null || die "$t is missing from this image"
done
tmp=$(mktemp -d /run/ntpmc-firstboot.XXXXXX)

# ---- the metadata service: region, instance id, public address ---------------
json_get() { # KEY... from the JSON on stdin (python3: installed with the package)
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$@"
}
if [ "$PROVIDER" = aws ]; then
	imds=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 600' \
		"$md/latest/api/token" 2>/dev/null) || die "no AWS metadata service at $md (IMDSv2): is this an EC2 instance?"
	mdget() { curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $imds" "$md/latest/meta-data/$1" 2>/dev/null; }
	INSTANCE_ID=$(mdget instance-id) || die "AWS metadata: no instance-id"
	REGION=$(mdget placement/region) || die "AWS metadata: no placement/region"
	ZONE=$(mdget placement/availability-zone) || ZONE=""
	# the provider hook (infra/providers/aws): the instance id, the region
	HOOK_ID=$INSTANCE_ID
	HOOK_REGION=$REGION
	# the Elastic IP is on the interface before boot (terraform); by hand
	# it may come a little later
	PUBLIC_IP=""
	for _ in $(seq 30); do
		PUBLIC_IP=$(mdget public-ipv4) && break
		sleep 2
	done
	[ -n "$PUBLIC_IP" ] || die "AWS metadata: no public-ipv4 after 60 s (the instance needs its Elastic IP)"
	SMEARING=169.254.169.123
else
	mdget() { curl -fsS -m 5 -H 'Metadata-Flavor: Google' "$md/computeMetadata/v1/$1" 2>/dev/null; }
	INSTANCE_ID=$(mdget instance/id) || die "no GCP metadata service at $md: is this a GCE instance?"
	ZONE=$(mdget instance/zone) || die "GCP metadata: no instance/zone"
	ZONE=${ZONE##*/}
	REGION=${ZONE%-*}
	PROJECT=$(mdget project/project-id) || die "GCP metadata: no project/project-id"
	# the provider hook (infra/providers/gcp, gcloud): the instance's
	# name and its zone
	HOOK_ID=$(mdget instance/name) || die "GCP metadata: no instance/name"
	HOOK_REGION=$ZONE
	PUBLIC_IP=$(mdget instance/network-interfaces/0/access-configs/0/external-ip) ||
		die "GCP metadata: no external IP (the instance needs its static address)"
	SMEARING=metadata.google.internal
fi
case $PUBLIC_IP in *[!0-9.]* | "") die "the metadata service gave no IPv4 address ('$PUBLIC_IP')" ;; esac
case $INSTANCE_ID in '' | *[!A-Za-z0-9-]*) die "the metadata service gave a bad instance id" ;; esac
case $HOOK_ID in '' | *[!A-Za-z0-9-]*) die "the metadata service gave a bad instance name" ;; esac
say "$NODE_NAME ($ROLE): $PROVIDER $REGION${ZONE:+ ($ZONE)}, instance $INSTANCE_ID, public $PUBLIC_IP"
mkdir -p "$state_dir"
{
	echo "provider=$PROVIDER"
	echo "region=$REGION"
	echo "zone=$ZONE"
	echo "instance_id=$INSTANCE_ID"
	[ "$PROVIDER" != gcp ] || echo "instance_name=$HOOK_ID"
	[ "$PROVIDER" != gcp ] || echo "project=$PROJECT"
	echo "public_ipv4=$PUBLIC_IP"
} >"$state_dir/instance"

# ---- token slots: the cloud's own secret store, via the instance's identity ---
# AWS: SSM Parameter Store (SecureString), signed with the instance role's
# credentials (curl --aws-sigv4). GCP: Secret Manager with the service
# account's access token. Request bodies and credentials go through files
# in $tmp (0700), never through argv.
aws_call() { # OP JSON -> prints the answer; rc 0 ok, 3 not found, 1 else
	local role creds
	role=$(mdget iam/security-credentials/) || { echo "the instance has no IAM role" >"$tmp/err"; return 1; }
	creds=$(mdget "iam/security-credentials/${role%%$'\n'*}") || { echo "no role credentials" >"$tmp/err"; return 1; }
	{
		printf 'user = "%s:%s"\n' "$(json_get AccessKeyId <<<"$creds")" "$(json_get SecretAccessKey <<<"$creds")"
		printf 'header = "X-Amz-Security-Token: %s"\n' "$(json_get Token <<<"$creds")"
	} >"$tmp/curl.cfg"
	printf '%s' "$2" >"$tmp/body"
	local code
	code=$(curl -sS -m 15 -K "$tmp/curl.cfg" --aws-sigv4 "aws:amz:$REGION:ssm" \
		-H "X-Amz-Target: AmazonSSM.$1" -H 'Content-Type: application/x-amz-json-1.1' \
		--data-binary "@$tmp/body" -o "$tmp/out" -w '%{http_code}' \
		"${SSM_ENDPOINT:-https://ssm.$REGION.amazonaws.com}/" 2>"$tmp/err") || code=000
	rm -f "$tmp/curl.cfg" "$tmp/body"
	case $code in
	200) cat "$tmp/out" ;;
	400) if grep -q ParameterNotFound "$tmp/out"; then return 3; fi
		cp "$tmp/out" "$tmp/err"; return 1 ;;
	*) [ -s "$tmp/out" ] && cp "$tmp/out" "$tmp/err"; return 1 ;;
	esac
}
gcp_call() { # METHOD PATH [JSON] -> prints the answer; rc 0 ok, 3 not there, 1 else
	local tok code
	tok=$(mdget instance/service-accounts/default/token | json_get access_token) ||
		{ echo "no service account token" >"$tmp/err"; return 1; }
	printf 'header = "Authorization: Bearer %s"\n' "$tok" >"$tmp/curl.cfg"
	printf '%s' "${3:-}" >"$tmp/body"
	code=$(curl -sS -m 15 -K "$tmp/curl.cfg" -X "$1" -H 'Content-Type: application/json' \
		${3:+--data-binary "@$tmp/body"} -o "$tmp/out" -w '%{http_code}' \
		"${SECRETS_ENDPOINT:-https://secretmanager.googleapis.com}/v1/$2" 2>"$tmp/err") || code=000
	rm -f "$tmp/curl.cfg" "$tmp/body"
	case $code in
	200) cat "$tmp/out" ;;
	# no version yet, or the latest one destroyed: not there (yet)
	404) return 3 ;;
	400) if grep -q FAILED_PRECONDITION "$tmp/out"; then return 3; fi
		cp "$tmp/out" "$tmp/err"; return 1 ;;
	*) [ -s "$tmp/out" ] && cp "$tmp/out" "$tmp/err"; return 1 ;;
	esac
}
b64() { python3 -c 'import base64, sys; sys.stdout.write(base64.b64encode(sys.stdin.buffer.read()).decode())'; }
unb64() { python3 -c 'import base64, sys; sys.stdout.buffer.write(base64.b64decode(sys.stdin.read()))'; }
jstr() { python3 -c 'import json, sys; sys.stdout.write(json.dumps(sys.stdin.read()))'; }

# slot_take SLOT FILE: the token into FILE and the slot emptied; rc 3: not there
slot_take() {
	local out rc=0 name
	case $1 in
	aws-ssm:*)
		name=$(printf '%s' "${1#aws-ssm:}" | jstr)
		out=$(aws_call GetParameter "{\"Name\":$name,\"WithDecryption\":true}") || return $?
		json_get Parameter Value <<<"$out" >"$2"
		aws_call DeleteParameter "{\"Name\":$name}" >/dev/null || rc=$?
		;;
	gcp-secret:*)
		out=$(gcp_call GET "${1#gcp-secret:}/versions/latest:access") || return $?
		json_get payload data <<<"$out" | unb64 >"$2"
		gcp_call POST "$(json_get name <<<"$out"):destroy" '{}' >/dev/null || rc=$?
		;;
	file:*)
		[ -s "${1#file:}" ] || return 3
		cat "${1#file:}" >"$2"
		rm -f "${1#file:}"
		;;
	esac
	[ "$rc" = 0 ] || say "warning: the token was read but its slot could not be emptied: $(head -c 300 "$tmp/err")"
	return 0
}
# slot_put SLOT < token
slot_put() {
	local data
	data=$(cat)
	case $1 in
	aws-ssm:*)
		aws_call PutParameter "{\"Name\":$(printf '%s' "${1#aws-ssm:}" | jstr),\"Value\":$(printf '%s' "$data" | jstr),\"Type\":\"SecureString\",\"Overwrite\":true}" >/dev/null ;;
	gcp-secret:*)
		gcp_call POST "${1#gcp-secret:}:addVersion" "{\"payload\":{\"data\":\"$(printf '%s' "$data" | b64)\"}}" >/dev/null ;;
	file:*)
		(umask 077 && printf '%s\n' "$data" >"${1#file:}") ;;
	esac
}

# ---- the package: bookworm-backports from the image's own Debian source -------
# libraft0 >= 0.22.1 is only in bookworm-backports. Its URIs (and key) are
# those of the source that carries bookworm, deb822 or one-line: on the
# Debian cloud images that is mirror+file:///etc/apt/mirrors/debian.list.
if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	src=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		src=$(awk 'BEGIN { RS = ""; FS = "\n" }
		{ u = ""; s = ""; k = ""
		  for (i = 1; i <= NF; i++) {
		    if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u) }
		    if ($i ~ /^Suites:/) s = " " $i " "
		    if ($i ~ /^Signed-By:/) { k = $i; sub(/^Signed-By:[ \t]*/, "", k) }
		  }
		  if (s ~ /[ \t]bookworm[ \t]/ && u != "") { print u "|" k; exit }
		}' "$f")
		[ -z "$src" ] || break
	done
	if [ -z "$src" ] && [ -f /etc/apt/sources.list ]; then
		src=$(awk '$1 == "deb" && / bookworm / { for (i = 2; i <= NF; i++)
			if ($i ~ /^[a-z+]+:\/\//) { print $i "|"; exit } }' /etc/apt/sources.list)
	fi
	[ -n "$src" ] || die "no Debian bookworm apt source in this image to take bookworm-backports from"
	{
		echo "Types: deb"
		echo "URIs: ${src%%|*}"
		echo "Suites: bookworm-backports"
		echo "Components: main"
		[ -z "${src#*|}" ] || echo "Signed-By: ${src#*|}"
	} >/etc/apt/sources.list.d/ntpmc-bookworm-backports.sources
	say "enabled bookworm-backports from ${src%%|*}"
fi
export DEBIAN_FRONTEND=noninteractive
# a fresh VM's apt-daily / unattended-upgrades may hold the lock for a while
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
apt_get update -q >"$tmp/apt.log" 2>&1 || { tail -n 5 "$tmp/apt.log" >&2; die "apt-get update failed"; }
curl -fsS -m 300 -o "$tmp/ntpmc.deb" "$PACKAGE_URL" || die "cannot download the package from $PACKAGE_URL"
if [ -n "$PACKAGE_SHA256" ]; then
	echo "$PACKAGE_SHA256  $tmp/ntpmc.deb" | sha256sum -c --quiet - >/dev/null 2>&1 ||
		die "the package from $PACKAGE_URL does not have SHA-256 $PACKAGE_SHA256"
fi
# python3 reads the secret stores' JSON (GCP's guest-agent images may lack it)
pkgs=("libraft0/bookworm-backports" "$tmp/ntpmc.deb" python3)
if [ -n "$EXTRA_DEB_URL" ]; then
	curl -fsS -m 300 -o "$tmp/extra.deb" "$EXTRA_DEB_URL" || die "cannot download $EXTRA_DEB_URL"
	pkgs+=("$tmp/extra.deb")
fi
[ -z "$WG_INTERFACE" ] || pkgs+=(wireguard-tools iproute2)
# apt removes systemd-timesyncd (ntpmc conflicts with time-daemon)
apt_get install -y -q --no-install-recommends "${pkgs[@]}" >"$tmp/apt.log" 2>&1 ||
	{ tail -n 5 "$tmp/apt.log" >&2; die "apt-get install of the package failed"; }
say "installed $(dpkg-query -W -f='ntpmc ${Version}, libraft0 ' ntpmc)$(dpkg-query -W -f='${Version}' libraft0)"

# ---- the config ---------------------------------------------------------------
# instance-id, when this ntpnode knows the directive (the rotation's hooks
# name the VM by it: AWS's instance id, GCP's instance name); else it stays
# a comment and in $state_dir/instance. Region: what the hook needs (GCP:
# the zone). The package's hook for this provider, unless NTPMC_CONF names
# one (docs/rotation.md): the instance role / service account is its
# credential.
idline="# instance-id $HOOK_ID"
printf 'instance-id %s\n' "$HOOK_ID" >"$tmp/probe.conf"
if ntpnode check -c "$tmp/probe.conf" >/dev/null 2>&1; then
	idline="instance-id $HOOK_ID"
fi
hookline=""
hook=/usr/lib/ntpmc/providers/$PROVIDER
if [ -x "$hook" ] && ! grep -q "^provider-hook $PROVIDER " <<<"$CONFLINES"; then
	printf 'provider-hook %s %s\n' "$PROVIDER" "$hook" >"$tmp/probe.conf"
	! ntpnode check -c "$tmp/probe.conf" >/dev/null 2>&1 ||
		hookline="provider-hook $PROVIDER $hook"
fi
mkdir -p /etc/ntpnode
{
	echo "# written by ntpmc-firstboot from $env_file and the $PROVIDER metadata service"
	echo "node-name $NODE_NAME"
	echo "provider $PROVIDER"
	echo "region $HOOK_REGION"
	echo "$idline"
	[ -z "$hookline" ] || echo "$hookline"
	echo "discipline $DISCIPLINE"
	if [ -f /usr/share/zoneinfo/leap-seconds.list ]; then
		echo "# tzdata's copy of the IERS list (keep tzdata updated)"
		echo "leapfile /usr/share/zoneinfo/leap-seconds.list"
	fi
	echo "# fixed, non-smearing upstreams, never pool.ntp.org (docs/pool.md)"
	while IFS= read -r u; do
		[ -z "$u" ] || echo "upstream $u iburst"
	done <<<"$UPSTREAMS"
	echo "# the cloud's own NTP smears leap seconds: not used from 12:00 UTC"
	echo "# before a leap to 12:00 after"
	echo "upstream $SMEARING iburst smearing"
	echo "cluster-listen 0.0.0.0 port $CLUSTER_PORT"
	echo "# rewritten at every start by /usr/libexec/ntpmc/ntpnode-public-ip"
	echo "cluster-advertise $PUBLIC_IP port $CLUSTER_PORT"
	[ -z "$WG_INTERFACE" ] || echo "wireguard-interface $WG_INTERFACE port $WG_PORT"
	printf '%s' "$CONFLINES"
} >"$tmp/ntpnode.conf"
ntpnode check -c "$tmp/ntpnode.conf" >"$tmp/check.log" 2>&1 ||
	{ cat "$tmp/check.log" >&2; die "the generated config does not pass ntpnode check"; }
install -m 0644 "$tmp/ntpnode.conf" "$conf"
say "wrote $conf"

# ---- the WireGuard drop-in: CAP_NET_ADMIN and netlink for the unit -------------
if [ -n "$WG_INTERFACE" ]; then
	mkdir -p /etc/systemd/system/ntpnode.service.d
	ln -sf /usr/share/ntpmc/wireguard.conf /etc/systemd/system/ntpnode.service.d/wireguard.conf
	caps=+net_admin
else
	caps=-all
fi

# as_ntpnode CMD...: the service's user, with CAP_NET_ADMIN when it manages
# the mesh (ip and wg), and nothing else: the datadir it fills is the
# service's, and the token file is its to read.
as_ntpnode() {
	local -a c=(setpriv --reuid=ntpnode --regid=ntpnode --init-groups)
	if [ "$caps" = -all ]; then
		c+=(--inh-caps=-all --ambient-caps=-all)
	else
		c+=(--inh-caps="-all,$caps" --ambient-caps="-all,$caps")
	fi
	"${c[@]}" "$@"
}
mkdir -p /run/ntpnode
chown ntpnode:ntpnode /run/ntpnode

# A first boot run again after a later step failed must not init or join
# a second time (ntpnode refuses a datadir that holds a cluster).
if [ -f "$state_dir/member" ]; then
	say "already a member ($(cat "$state_dir/member")): init/join skipped"
elif [ "$ROLE" = init ]; then
	# init prints its own single-use token on the last line: not kept (the
	# console is readable from the cloud's API), it expires unused
	args=(init --no-run -c "$conf")
	[ -z "$OVERLAY_SUBNET" ] || args+=(--overlay-subnet "$OVERLAY_SUBNET")
	as_ntpnode /usr/sbin/ntpnode "${args[@]}" >/dev/null 2>"$tmp/join.log" || {
		rc=$?
		cat "$tmp/join.log" >&2
		die "ntpnode init failed (rc $rc): see the lines above"
	}
	echo "init" >"$state_dir/member"
	say "created the cluster"
else
	rm -rf /run/ntpmc-join
	mkdir -m 0700 /run/ntpmc-join
	chown ntpnode:ntpnode /run/ntpmc-join
	tok=/run/ntpmc-join/token
	say "waiting up to ${TOKEN_WAIT}s for the join token in ${TOKEN_SLOT} (docs/deploy.md: publish it)"
	end=$(($(date +%s) + TOKEN_WAIT))
	while :; do
		rc=0
		(umask 077 && slot_take "$TOKEN_SLOT" "$tok") || rc=$?
		[ "$rc" = 0 ] && break
		[ "$rc" = 3 ] || die "cannot read the join token from $TOKEN_SLOT: $(tr '\n' ' ' <"$tmp/err" | head -c 300)"
		[ "$(date +%s)" -lt "$end" ] || die "no join token in $TOKEN_SLOT after ${TOKEN_WAIT}s"
		sleep 5
	done
	[ -n "$(tr -d '[:space:]' <"$tok")" ] || die "the join token taken from $TOKEN_SLOT is empty"
	chown ntpnode:ntpnode "$tok"
	chmod 0400 "$tok"
	say "join token taken from $TOKEN_SLOT (the slot is emptied)"
	as_ntpnode /usr/sbin/ntpnode join --no-run -c "$conf" --token-file "$tok" \
		>/dev/null 2>"$tmp/join.log" || {
		rc=$?
		cat "$tmp/join.log" >&2
		die "ntpnode join failed (rc $rc): see the lines above; docs/deploy.md, 'A VM that will not join'"
	}
	rm -f "$tok"
	echo "join" >"$state_dir/member"
	say "joined the cluster"
fi

# ---- the service ------------------------------------------------------------------
systemctl daemon-reload
systemctl enable --now ntpnode.service >/dev/null 2>&1 || die "systemctl enable --now ntpnode failed (journalctl -u ntpnode)"
for _ in $(seq 60); do
	ntpctl cluster status >/dev/null 2>&1 && break
	sleep 1
done
ntpctl cluster status >/dev/null 2>&1 || die "ntpnode.service does not answer ntpctl after 60 s (journalctl -u ntpnode)"

if [ "$ROLE" = init ]; then
	while IFS= read -r s; do
		[ -n "$s" ] || continue
		t=$(ntpctl token create --ttl "$TOKEN_TTL" --uses 1) || die "ntpctl token create failed"
		printf '%s' "$t" | slot_put "$s" ||
			die "cannot publish a join token to $s: $(tr '\n' ' ' <"$tmp/err" | head -c 300)"
		say "published a single-use join token (valid $TOKEN_TTL) to $s"
	done <<<"$PUBLISH"
	unset t
fi
echo "done" >"$state_dir/firstboot.state"
say "done: $NODE_NAME serves NTP and is a cluster member (ntpctl cluster status)"
