#!/usr/bin/env bash
# Leader placement by egress on three members on loopback: n1 on gcp
# (1 GB a month) inits the cluster (so it runs the wan profile), n2 and n3
# on aws (100 GB) join under wan; the leader hands itself to an aws member
# once it has led long enough to know the others, with one transfer, and
# it stays there. With a shorter status interval (explicit, beating the
# profile) the wait is 10 s instead of two status intervals.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

term_of() { lc_status_json "$1" | jq -r .term; }
for i in 1 2 3; do lc_conf "$i"; done
sed -i 's/^provider other$/provider gcp/' "$(lc_memdir 1)/ntpnode.conf"
sed -i 's/^provider other$/provider aws/' "$(lc_memdir 2)/ntpnode.conf" \
	"$(lc_memdir 3)/ntpnode.conf"
lc_init 1
[ "$(lc_ctl 1 config get cluster-profile)" = "cluster-profile wan (replicated)" ] ||
	lc_fail "init on gcp: $(lc_ctl 1 config get cluster-profile)"
lc_ctl 1 config set status-interval 2s >/dev/null || lc_fail "status-interval"
lc_join 2 "$LC_TOKEN"
lc_join 3 "$(lc_ctl 1 token create)"
lc_wait_voters 3 60 || lc_fail "3 voters under wan"
t0=$(term_of 1)
lc_log "3 voters under wan, term $t0; waiting for the leader to move to aws"
on_aws() { l=$(lc_wait_leader 1) && [ "$l" != 1 ]; }
lc_until 40 on_aws || lc_fail "the leader stayed on gcp"
l=$(lc_wait_leader 5)
grep -q "leader placement: leadership to n$l" "$(lc_memdir 1)/stderr" ||
	lc_fail "no placement line in n1's log"
t1=$(term_of "$l")
[ "$t1" = $((t0 + 1)) ] || lc_fail "term $t0 -> $t1: more than one election"
sleep 12
[ "$(lc_wait_leader 5)" = "$l" ] || lc_fail "the leader moved again"
[ "$(term_of "$l")" = "$t1" ] || lc_fail "term changed after the move"
lc_log "PASS: leader n$l (aws), term $t0 -> $t1"
