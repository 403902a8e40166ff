#!/usr/bin/env bash
# Five members on loopback: the role policy grows
# the voters 1 -> 2 -> 3 -> 5 (never resting at 4), survives two leader
# kill -9 in a row (fault tolerance 2), restarts, and restores an odd voter
# count after a removal. Kill steps: 3.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

for i in 1 2 3 4 5; do lc_conf "$i"; done
lc_init 1
lc_join 2 "$LC_TOKEN"
lc_wait_voters 2 20 || lc_fail "2 voters"
for i in 3 4 5; do
	t=$(lc_ctl 1 token create) || lc_fail "token create"
	lc_join "$i" "$t"
done
lc_wait_voters 5 30 || lc_fail "5 voters not reached"
j=$(lc_status_json 3)
jq -e '.fault_tolerance==2 and (.members|length==5)' <<<"$j" >/dev/null ||
	lc_fail "fault tolerance with 5 voters: $j"

lc_log "a token for 2 uses serves 2 joins"
t=$(lc_ctl 2 -o json token create --uses 2 --ttl 10m) || lc_fail "create"
jq -e '.uses_left==2 and (.token|type=="string") and (.id|type=="string")
	and (.expires_at|type=="number" or type=="string")' <<<"$t" >/dev/null ||
	lc_fail "token create -o json: $t"
id=$(jq -r .id <<<"$t")
lc_ctl 1 token list | grep -q "$id" || lc_fail "token list misses $id"
lc_ctl 1 token revoke "$id" || lc_fail "token revoke"
# kept, as revoked, so that its holder is told why it is refused
lc_ctl 1 token list | grep -q "^$id .*revoked" ||
	lc_fail "revoked token not listed as revoked"
lc_ctl 1 token revoke "$id" 2>/dev/null && lc_fail "revoked twice"

lc_log "two leader kills in a row"
for round in 1 2; do
	old=$(lc_wait_leader 5) || lc_fail "no leader (round $round)"
	lc_kill9 "$old"
	killed+=("$old")
	new=$(lc_wait_leader 10) || lc_fail "no new leader (round $round)"
	[ "$new" != "$old" ] || lc_fail "same leader"
	lc_ctl "$new" config set min-serving "$((round + 2))" ||
		lc_fail "write after kill $round"
done
# A voter counts as reachable until it has been silent for the election
# timeout or three status intervals (750 ms here): the second kill may be
# younger than that when the new leader answers.
lc_until 5 bash -c "'$NTPCTL' -s '$(lc_sock "$new")' -o json cluster status |
	jq -e '.fault_tolerance==0' >/dev/null" || lc_fail "ft after 2 kills"
for i in "${killed[@]}"; do lc_run "$i"; done
lc_wait_voters 5 30 || lc_fail "5 voters after restarts"
for i in 1 2 3 4 5; do
	lc_until 5 bash -c "'$NTPCTL' -s '$(lc_sock "$i")' config get \
		min-serving | grep -q 4" || lc_fail "n$i missed min-serving 4"
done

lc_log "removing a voter restores an odd count (5 -> 4 members, 3 voters)"
l=$(lc_wait_leader 5)
victim=$(( l % 5 + 1 ))
lc_ctl "$l" node remove "n$victim" || lc_fail "node remove"
lc_stop "$victim"
lc_until 20 bash -c "'$NTPCTL' -s '$(lc_sock "$l")' -o json cluster status |
	jq -e '(.members|length==4) and
		([.members[]|select(.role==\"voter\")]|length==3)' >/dev/null" ||
	lc_fail "voters not back to 3"

lc_log "leader transfer to a named member"
l=$(lc_wait_leader 5)
target=
for i in 1 2 3 4 5; do
	[ "$i" = "$victim" ] || [ "$i" = "$l" ] && continue
	if lc_status_json "$l" | jq -e --arg n "n$i" \
		'.members[]|select(.name==$n and .role=="voter")' >/dev/null; then
		target=$i
		break
	fi
done
[ -n "$target" ] || lc_fail "no voter to transfer to"
lc_ctl "$l" leader transfer "n$target" || lc_fail "leader transfer"
n=$(lc_wait_leader 5) || lc_fail "no leader after transfer"
[ "$n" = "$target" ] || lc_fail "leader is n$n after transfer to n$target"

lc_log "PASS"
