#!/usr/bin/env bash
# The aws and gcp provider hooks (infra/providers) against stand-in `aws`
# and `gcloud` programs first in PATH: the cloud calls they make for each
# action (what the stand-ins record), how they read each state the clouds
# report, refusals of bad arguments, a failing cloud call. Nothing reaches
# a cloud.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prov=$here/../../infra/providers
work=$(mktemp -d /tmp/ntpmc-hooks.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "provider-hooks: FAIL: $*" >&2; exit 1; }

# the stand-ins: record their arguments, answer $STATE, fail on $FAIL
for tool in aws gcloud; do
	cat >"$work/$tool" <<STUB
#!/bin/sh
echo "\$*" >>"$work/calls"
[ -n "\${FAIL:-}" ] && { echo "$tool: credentials expired" >&2; exit 255; }
case "\$*" in
*describe-instances* | *"instances describe"*) echo "\${STATE:-}" ;;
*describe-addresses*--query\ Addresses\[\].AllocationId*) echo "eipalloc-1" ;;
*describe-addresses*) echo "198.51.100.7" ;;
*"addresses list"*) echo "ntp-ip" ;;
esac
exit 0
STUB
	chmod +x "$work/$tool"
done
export PATH="$work:$PATH"

# run HOOK ACTION ID REGION: its stdout; the calls it made go to $work/calls
run() {
	: >"$work/calls"
	NTPMC_PROVIDER=$1 NTPMC_REGION=$4 "$prov/$1" "$2" "$3"
}
called() { grep -qF -- "$1" "$work/calls" || fail "no call '$1': $(cat "$work/calls")"; }

run aws start i-0abc eu-west-1 >/dev/null
called "--region eu-west-1 --output text ec2 start-instances --instance-ids i-0abc"
run aws stop i-0abc eu-west-1 >/dev/null
called "ec2 stop-instances --instance-ids i-0abc"
for s in running:running stopped:stopped pending:pending stopping:pending \
	shutting-down:pending terminated:unknown garbage:unknown; do
	got=$(STATE=${s%%:*} run aws status i-0abc eu-west-1)
	[ "$got" = "${s#*:}" ] || fail "aws ${s%%:*} read as '$got'"
done
run aws terminate i-0abc eu-west-1
called "ec2 terminate-instances --instance-ids i-0abc"
run aws release i-0abc eu-west-1
called "disassociate-address --public-ip 198.51.100.7"
called "release-address --allocation-id eipalloc-1"
if FAIL=1 run aws status i-0abc eu-west-1 >/dev/null 2>"$work/err"; then
	fail "a failing aws call gave exit 0"
fi
grep -q "credentials expired" "$work/err" || fail "no reason"
if run aws start vm-1 eu-west-1 2>/dev/null; then fail "bad id"; fi
if run aws start i-0abc "" 2>/dev/null; then fail "no region"; fi
if run aws reboot i-0abc eu-west-1 2>/dev/null; then fail "bad action"; fi

run gcp start ntp-gcp-a us-central1-a >/dev/null
called "compute instances start ntp-gcp-a --async --zone us-central1-a --quiet"
run gcp stop ntp-gcp-a us-central1-a >/dev/null
called "compute instances stop ntp-gcp-a --async --zone us-central1-a --quiet"
for s in RUNNING:running TERMINATED:stopped SUSPENDED:stopped \
	STAGING:pending STOPPING:pending PROVISIONING:pending ODD:unknown; do
	got=$(STATE=${s%%:*} run gcp status ntp-gcp-a us-central1-a)
	[ "$got" = "${s#*:}" ] || fail "gcp ${s%%:*} read as '$got'"
done
run gcp terminate ntp-gcp-a us-central1-a
called "compute instances delete ntp-gcp-a --zone us-central1-a --quiet"
run gcp release ntp-gcp-a us-central1-a
called "compute addresses delete ntp-ip --region us-central1 --quiet"
if FAIL=1 run gcp status ntp-gcp-a us-central1-a >/dev/null 2>&1; then
	fail "a failing gcloud call gave exit 0"
fi
if run gcp start -x us-central1-a 2>/dev/null; then fail "bad name"; fi
echo "provider-hooks: OK"
