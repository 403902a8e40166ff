#!/usr/bin/env bash
# Three members on loopback: init, join, status from every
# member, config replication, refused config values, reused, expired and
# revoked tokens (refused at once, with the reason), init/join on a used
# datadir, leader kill -9 -> new leader, restart
# and catch-up, removal, and the removed member's key refused afterwards;
# join/remove rounds of a third voter (a joiner's catch-up batch holding
# many configuration changes).
# Kill steps: 1 (plus the removal).
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"

for i in 1 2 3 4 5; do lc_conf "$i"; done

lc_log "init n1"
lc_init 1
[ "$(tail -n 1 "$LC_DIR/n1/stdout" | wc -w)" = 1 ] ||
	lc_fail "the token is not alone on the last line"
first_token=$LC_TOKEN
l=$(lc_wait_leader 10 1) || lc_fail "n1 did not become leader"
[ "$l" = 1 ] || lc_fail "leader is n$l, expected n1"

lc_log "join n2 with the init token"
lc_join 2 "$first_token"
if tr '\0' ' ' <"/proc/${LC_PID[2]}/cmdline" | grep -qF "$first_token"; then
	lc_fail "token visible in argv"
fi
lc_wait_voters 2 20 || lc_fail "n2 did not become a voter"
# Joined: no copy of the token (its secret) is left in n2's memory.
if n=$(python3 "$here/memscan.py" "${LC_PID[2]}" "${first_token:8:40}"); then
	[ "$n" = 0 ] || lc_fail "the token is still in n2's memory ($n copies)"
else
	lc_log "cannot read n2's memory here: token wipe not checked"
fi

lc_log "the init token is single-use: n4 refused, nothing changes"
before=$(lc_status_json 1 | jq '.members | length')
lc_join_bg 4 "$first_token"
# The member refuses it in the handshake and says why: at once.
lc_until 5 bash -c "! kill -0 ${LC_PID[4]} 2>/dev/null" ||
	lc_fail "join with a used token did not give up within 5 s"
wait "${LC_PID[4]}" && lc_fail "join with a used token exited 0"
unset "LC_PID[4]"
grep -q "join refused: the join token was already used" "$LC_DIR/n4/stderr" ||
	lc_fail "no clear token message"
[ "$(lc_status_json 1 | jq '.members | length')" = "$before" ] ||
	lc_fail "a refused join changed the membership"
rm -rf "$LC_DIR/n4/data" && mkdir -p "$LC_DIR/n4/data"

lc_log "token create on a follower (forwarded), join n3"
t3=$(lc_ctl 2 token create) || lc_fail "token create failed"
[ "$(printf '%s\n' "$t3" | wc -l)" = 1 ] || lc_fail "token create printed more"
lc_join 3 "$t3"
lc_wait_voters 3 20 || lc_fail "3 voters not reached"
lc_ctl 1 -o json token list | jq -e 'type=="array" or type=="object"' \
	>/dev/null || lc_fail "token list -o json"

lc_log "status JSON from every member"
for i in 1 2 3; do
	j=$(lc_status_json "$i") || lc_fail "status from n$i"
	jq -e '(.cluster_id|type=="string") and (.term|type=="number")
		and (.leader_id|type=="string") and .fault_tolerance==1
		and .view=="leader" and (.members|length==3)
		and ([.members[]|select(.is_leader)]|length==1)
		and all(.members[]; (.id|test("^[0-9]+$")) and
			(.role=="voter") and .reachable==true and
			(.name|test("^n[1-3]$")))' <<<"$j" >/dev/null ||
		lc_fail "status JSON from n$i: $j"
done
lc_ctl 2 cluster status | grep -q "n1" || lc_fail "status table"

lc_log "ntpctl's options after the command; a command's options checked"
lc_ctl 2 cluster status -o json | jq -e '.members|length==3' >/dev/null ||
	lc_fail "cluster status -o json (after the command)"
lc_ctl 3 token create --uses=2 -o json --ttl 2m |
	jq -e '.uses_left==2 and (.token|type=="string")' >/dev/null ||
	lc_fail "token create with options (forwarded)"
if lc_ctl 3 token create --bogus 2>"$LC_DIR/err"; then
	lc_fail "token create --bogus accepted"
fi
grep -q "unknown option '--bogus'" "$LC_DIR/err" ||
	lc_fail "no reason for an unknown option: $(cat "$LC_DIR/err")"

lc_log "config set on a follower is replicated"
lc_ctl 3 config set budget-usd 42.5 || lc_fail "config set"
for i in 1 2 3; do
	lc_until 5 bash -c "'$NTPCTL' -s '$(lc_sock "$i")' config get budget-usd \
		| grep -q '42.50.*replicated'" ||
		lc_fail "n$i does not see budget-usd 42.50 (replicated)"
done
# through a file: grep -q stops reading at the first match, and a list
# longer than ntpctl's stdio buffer would then end it with SIGPIPE
lc_ctl 1 config get >"$LC_DIR/config" || lc_fail "config get"
grep -q "election-timeout.*500" "$LC_DIR/config" ||
	lc_fail "config get lists defaults"

lc_log "bad values are refused before anything is proposed"
if lc_ctl 1 config set no-such-key 1 2>"$LC_DIR/err"; then
	lc_fail "unknown key accepted"
fi
grep -q "unknown key" "$LC_DIR/err" || lc_fail "no reason for unknown key"
# a value that starts with '-' reaches the daemon, which judges it
if lc_ctl 3 config set budget-usd -5 2>"$LC_DIR/err"; then
	lc_fail "budget-usd -5 accepted"
fi
grep -q "'-5' is not an amount" "$LC_DIR/err" ||
	lc_fail "no reason for budget-usd -5: $(cat "$LC_DIR/err")"
if lc_ctl 2 config set election-timeout 5 2>"$LC_DIR/err"; then
	lc_fail "bad value accepted"
fi
grep -q "election-timeout" "$LC_DIR/err" || lc_fail "no reason for bad value"

lc_log "an expired token is refused"
tx=$(lc_ctl 1 token create --ttl 1s) || lc_fail "token create --ttl 1s"
sleep 2
lc_join_bg 4 "$tx"
lc_until 5 bash -c "! kill -0 ${LC_PID[4]} 2>/dev/null" ||
	lc_fail "join with an expired token did not give up within 5 s"
wait "${LC_PID[4]}" && lc_fail "join with an expired token exited 0"
unset "LC_PID[4]"
# (refused by the members, or already by the joiner's own clock)
grep -q "token expired" "$LC_DIR/n4/stderr" || lc_fail "no expiry message"
rm -rf "$LC_DIR/n4/data" && mkdir -p "$LC_DIR/n4/data"

lc_log "a revoked token is refused, and said so"
tx=$(lc_ctl 1 -o json token create) || lc_fail "token create"
id=$(jq -r .id <<<"$tx")
lc_ctl 2 token revoke "$id" >/dev/null || lc_fail "token revoke (forwarded)"
lc_ctl 1 token list | grep -q "^$id .*revoked" || lc_fail "revoked not listed"
: >"$LC_DIR/n4/stderr"
lc_join_bg 4 "$(jq -r .token <<<"$tx")"
lc_until 5 bash -c "! kill -0 ${LC_PID[4]} 2>/dev/null" ||
	lc_fail "join with a revoked token did not give up within 5 s"
wait "${LC_PID[4]}" && lc_fail "join with a revoked token exited 0"
unset "LC_PID[4]"
grep -q "join refused: the join token was revoked" "$LC_DIR/n4/stderr" ||
	lc_fail "no revocation message"
rm -rf "$LC_DIR/n4/data" && mkdir -p "$LC_DIR/n4/data"

lc_log "kill -9 the leader -> new leader, then restart it"
old=$(lc_wait_leader 5) || lc_fail "no leader"
lc_kill9 "$old"
new=$(lc_wait_leader 10) || lc_fail "no new leader after kill -9"
[ "$new" != "$old" ] || lc_fail "the killed member is still leader"
lc_ctl "$new" config set log-level debug || lc_fail "write after failover"
lc_log "init/join on a used datadir exit 1"
set +e
"$NTPNODE" init -c "$LC_DIR/n$old/ntpnode.conf" >/dev/null 2>"$LC_DIR/err"
rc=$?
set -e
[ "$rc" = 1 ] || lc_fail "init on a used datadir: rc $rc"
grep -qi "already" "$LC_DIR/err" || lc_fail "no message for init twice"
set +e
"$NTPNODE" join -c "$LC_DIR/n$old/ntpnode.conf" --token "$t3" \
	>/dev/null 2>"$LC_DIR/err"
rc=$?
set -e
[ "$rc" = 1 ] || lc_fail "join on a used datadir: rc $rc"
lc_run "$old"
lc_wait_voters 3 20 || lc_fail "restarted member did not come back"
lc_until 5 bash -c "'$NTPCTL' -s '$(lc_sock "$old")' config get log-level \
	| grep -q 'debug'" || lc_fail "restarted member missed a write"

lc_log "join n4, remove it; its key is refused afterwards"
t4=$(lc_ctl 1 token create) || lc_fail "token create"
lc_join 4 "$t4"
lc_until 20 bash -c "'$NTPCTL' -s '$(lc_sock 1)' -o json cluster status |
	jq -e '.members|length==4' >/dev/null" || lc_fail "n4 not a member"
l=$(lc_wait_leader 5) || lc_fail "no leader"
lc_ctl "$l" node remove n4 || lc_fail "node remove"
lc_until 10 bash -c "'$NTPCTL' -s '$(lc_sock "$l")' -o json cluster status |
	jq -e '(.members|length)==3 and all(.members[]; .name!=\"n4\")' \
	>/dev/null" || lc_fail "n4 still listed: $(lc_status_json "$l")"
lc_stop 4
lc_start 4 run
sleep 2
lc_status_json "$l" | jq -e 'all(.members[]; .name!="n4")' >/dev/null ||
	lc_fail "a removed member came back"
# grep reads the files itself: with pipefail, cat | grep -q fails when grep
# exits at the first match while cat is still writing (SIGPIPE).
grep -qi "unknown key\|not a member" "$LC_DIR"/n[123]/stderr ||
	lc_fail "no member logged the refused key"
lc_stop 4
lc_wait_voters 3 10 || lc_fail "voters after removal: $(lc_status_json "$(lc_wait_leader 5)")"

# With two voters each joiner is caught up and promoted to third voter;
# each join/remove round adds four configuration changes, so a later
# joiner's catch-up batch holds more committed changes than the raft
# driver's event queue has slots (a joiner once died there with "event
# queue failed" and never became a voter).
lc_log "two voters; join/remove rounds of a third voter"
l=$(lc_wait_leader 5) || lc_fail "no leader"
[ "$l" = 3 ] && { lc_ctl 3 leader transfer >/dev/null; l=$(lc_wait_leader 10); }
lc_ctl "$l" node remove n3 >/dev/null || lc_fail "remove n3"
lc_stop 3
lc_wait_voters 2 10 || lc_fail "2 voters after removing n3"
for round in 1 2 3 4 5 6; do
	rm -rf "$LC_DIR/n5/data" "$LC_DIR/n5/stdout" "$LC_DIR/n5/stderr"
	mkdir -p "$LC_DIR/n5/data"
	t5=$(lc_ctl 1 token create) || lc_fail "token create"
	lc_join 5 "$t5"
	lc_wait_voters 3 15 || lc_fail "round $round: n5 not a voter: $(
		lc_status_json 1)"
	lc_alive 5 || lc_fail "round $round: n5 exited"
	[ "$round" = 6 ] && break
	l=$(lc_wait_leader 5) || lc_fail "no leader"
	lc_ctl "$l" node remove n5 >/dev/null || lc_fail "remove n5 ($round)"
	lc_stop 5
	lc_wait_voters 2 10 || lc_fail "2 voters after removing n5"
done

lc_log "PASS"
