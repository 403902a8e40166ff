#!/usr/bin/env bash
# Backup, restore and quorum-loss recovery on loopback:
# (a) 3 voters, config written, `ntpctl backup` (on a follower: read index
#     through the leader; on the leader), restore into a fresh datadir: same
#     state hash as the backup, config values there, old members and tokens
#     pruned, a new join; bad backups (truncated, damaged, newer format,
#     another cluster's) refused with the datadir unchanged.
# (b) kill -9 two voters, SIGTERM the third, `ntpnode recover` (refused while
#     it runs, with an unknown id, a duplicate, an empty list), then it leads
#     alone, takes a config write and a new join.
# Kill steps: 2 (kill -9 of n1 and n2).
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
command -v python3 >/dev/null || { echo "python3 needed"; exit 77; }
lc_setup "${LC_WORKDIR:-}"

for i in 1 2 3 4 5 6 7 8; do lc_conf "$i"; done
conf() { echo "$(lc_memdir "$1")/ntpnode.conf"; }
data() { echo "$(lc_memdir "$1")/data"; }
# A fingerprint of a datadir: every file's path and content.
# (lock files aside: the daemon's flock file and LMDB's reader table)
fp() { (cd "$1" && find . -type f ! -name lock ! -name lock.mdb -print0 | sort -z |
	xargs -0r sha256sum | sha256sum); }
# The value of "key: value" / "key value" lines printed by our commands.
field() { sed -n "s/^$1 *//p" | head -n 1; }

lc_log "3 voters"
lc_init 1
lc_join 2
t=$(lc_ctl 1 token create) || lc_fail "token create"
lc_join 3 "$t"
lc_wait_voters 3 30 || lc_fail "3 voters not reached"
lc_ctl 2 config set budget-usd 42.5 || lc_fail "config set"
lc_ctl 1 config set token-ttl 600s || lc_fail "config set"
lc_until 5 bash -c "'$NTPCTL' -s '$(lc_sock 3)' config get budget-usd |
	grep -q 42.50" || lc_fail "config not replicated to n3"
l=$(lc_wait_leader 10) || lc_fail "no leader"
f=2; [ "$l" = 2 ] && f=3

lc_log "backup on follower n$f (asks the leader) and on leader n$l"
B=$LC_DIR/b1.ntpmcbak
start=$(date +%s%N)
lc_ctl "$f" backup "$B" >"$LC_DIR/backup.out" || lc_fail "backup on a follower"
end=$(date +%s%N)
cat "$LC_DIR/backup.out" >&2
lc_log "backup took $(((end - start) / 1000000)) ms, $(stat -c %s "$B") bytes"
[ "$(stat -c %a "$B")" = 600 ] || lc_fail "backup mode $(stat -c %a "$B")"
hash=$(field "state hash" <"$LC_DIR/backup.out")
[ ${#hash} = 64 ] || lc_fail "no state hash printed"
grep -q "^members *3: " "$LC_DIR/backup.out" || lc_fail "members not printed"
if lc_ctl "$l" backup "$B" 2>"$LC_DIR/err"; then
	lc_fail "an existing file was overwritten without --force"
fi
grep -q "exists" "$LC_DIR/err" || lc_fail "no reason for refusing to overwrite"
lc_ctl "$l" backup --force "$B" >"$LC_DIR/backup2.out" || lc_fail "backup --force"
[ "$(field "state hash" <"$LC_DIR/backup2.out")" = "$hash" ] ||
	lc_fail "leader and follower backups differ with no write in between"
lc_ctl "$l" -o json backup --force "$LC_DIR/b-json" | jq -e --arg h "$hash" \
	'.state_hash==$h and .members==3 and (.index|type=="number") and
	 (.file|endswith("b-json")) and (has("backup")|not)' >/dev/null ||
	lc_fail "backup -o json"
for tmpf in "$LC_DIR"/.ntpctl-backup.*; do
	[ -e "$tmpf" ] && lc_fail "temporary file left: $tmpf"
done
if "$NTPCTL" -s "$(lc_sock 1)" backup 2>/dev/null; then lc_fail "backup without FILE"; fi

lc_log "bad backups are refused and change nothing"
bad() { # bad NAME WORD...: restore NAME into n4's datadir must fail saying WORD
	local name=$1 before after
	shift
	before=$(fp "$(data 4)")
	if "$NTPNODE" restore -c "$(conf 4)" --from "$name" >"$LC_DIR/out" \
		2>"$LC_DIR/err"; then
		lc_fail "restore accepted $name"
	fi
	cat "$LC_DIR/err" >&2
	for w in "$@"; do grep -qi -- "$w" "$LC_DIR/err" || lc_fail "$name: no '$w'"; done
	after=$(fp "$(data 4)")
	[ "$before" = "$after" ] || lc_fail "a refused restore changed the datadir"
}
size=$(stat -c %s "$B")
head -c $((size / 2)) "$B" >"$LC_DIR/trunc"
bad "$LC_DIR/trunc" truncated
python3 - "$B" "$LC_DIR/damaged" "$LC_DIR/newer" "$LC_DIR/foreign" <<'PY'
import hashlib, struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
def seal(x):
    body = bytes(x[:-32])
    return body + hashlib.blake2b(body, digest_size=32).digest()
d = bytearray(b); d[len(d) // 2] ^= 0x55
open(sys.argv[2], 'wb').write(bytes(d))
n = bytearray(b); n[8:12] = struct.pack('<I', 2)
open(sys.argv[3], 'wb').write(seal(n))
f = bytearray(b); f[0:8] = b'NOTABACK'
open(sys.argv[4], 'wb').write(seal(f))
PY
bad "$LC_DIR/damaged" damaged checksum
bad "$LC_DIR/newer" newer format
bad "$LC_DIR/foreign" "not an NTP-MC backup"
bad "$LC_DIR/no-such-file" "No such file"

lc_log "restore into n4's empty datadir"
"$NTPNODE" restore -c "$(conf 4)" --from "$B" >"$LC_DIR/restore.out" ||
	lc_fail "restore refused a good backup"
cat "$LC_DIR/restore.out" >&2
[ "$(grep -c "^state hash $hash " "$LC_DIR/restore.out")" = 2 ] ||
	lc_fail "restored state hash is not the backup's $hash"
bad "$B" "already holds"
lc_run 4
l4=$(lc_wait_leader 10 4) || lc_fail "restored n4 did not lead"
[ "$l4" = 4 ] || lc_fail "restored leader is n$l4"
lc_ctl 4 config get budget-usd | grep -q "42.50" || lc_fail "budget-usd lost"
lc_ctl 4 config get token-ttl | grep -q "600" || lc_fail "token-ttl lost"
lc_until 10 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock 4)' -o json cluster status |
	jq '.members|length')\" = 1 ]" || lc_fail "restored cluster lists old members"
lc_until 10 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock 4)' -o json token list |
	jq 'if type==\"array\" then length else (.tokens|length) end')\" = 0 ]" ||
	lc_fail "old tokens not revoked"
lc_ctl 4 -o json cluster status | jq -e '.members[0].name=="n4"' >/dev/null ||
	lc_fail "n4 has no member record"
t=$(lc_ctl 4 token create) || lc_fail "token create on the restored cluster"
lc_join 5 "$t"
lc_until 30 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock 4)' -o json cluster status |
	jq '[.members[]|select(.role==\"voter\")]|length')\" = 2 ]" ||
	lc_fail "n5 did not become a voter of the restored cluster"

lc_log "another cluster's backup is refused by a datadir that holds one"
lc_init 7
lc_ctl 7 backup "$LC_DIR/b7.ntpmcbak" >/dev/null || lc_fail "backup of n7"
lc_stop 7
lc_stop 5
lc_stop 4
bad_into() { # bad_into I FILE WORD
	local before after
	before=$(fp "$(data "$1")")
	if "$NTPNODE" restore -c "$(conf "$1")" --from "$2" 2>"$LC_DIR/err" >/dev/null; then
		lc_fail "restore over n$1's cluster accepted"
	fi
	cat "$LC_DIR/err" >&2
	grep -qi "$3" "$LC_DIR/err" || lc_fail "no '$3'"
	after=$(fp "$(data "$1")")
	[ "$before" = "$after" ] || lc_fail "a refused restore changed n$1's datadir"
}
bad_into 4 "$LC_DIR/b7.ntpmcbak" "another cluster"
bad_into 7 "$B" "another cluster"

lc_log "quorum loss: kill -9 n1 and n2, SIGTERM n3"
lc_kill9 1
lc_kill9 2
if "$NTPNODE" recover -c "$(conf 3)" --voters n3 >/dev/null 2>"$LC_DIR/err"; then
	lc_fail "recover ran while n3 runs"
fi
grep -q "is running" "$LC_DIR/err" || lc_fail "no 'is running' message"
lc_log "without a leader a backup is refused (a lone leader steps down first)"
lc_until 15 bash -c "! '$NTPCTL' -s '$(lc_sock 3)' backup --force \
	'$LC_DIR/noleader.bak' >/dev/null 2>'$LC_DIR/err'" ||
	lc_fail "backups still succeed with 2 of 3 voters dead"
cat "$LC_DIR/err" >&2
grep -qi "leader" "$LC_DIR/err" || lc_fail "no reason for the refused backup"
lc_stop 3
before=$(fp "$(data 3)")
for v in 12345 n9 n3,n3 "" "n3," n1; do
	if "$NTPNODE" recover -c "$(conf 3)" --voters "$v" >/dev/null 2>"$LC_DIR/err"; then
		lc_fail "recover accepted --voters '$v'"
	fi
	cat "$LC_DIR/err" >&2
done
if "$NTPNODE" recover -c "$(conf 3)" --voters n3,n2 >/dev/null 2>"$LC_DIR/err"; then
	lc_fail "two voters without --at accepted"
fi
grep -q -- "--at" "$LC_DIR/err" || lc_fail "no --at hint"
"$NTPNODE" recover -c "$(conf 3)" --check >"$LC_DIR/check.out" || lc_fail "recover --check"
cat "$LC_DIR/check.out" >&2
grep -q "^last log *index [0-9]*, term [0-9]*" "$LC_DIR/check.out" ||
	lc_fail "--check prints no last index"
[ "$before" = "$(fp "$(data 3)")" ] || lc_fail "refused/check recover changed the datadir"
"$NTPNODE" recover -c "$(conf 3)" --voters n3 >"$LC_DIR/recover.out" ||
	lc_fail "recover --voters n3"
cat "$LC_DIR/recover.out" >&2
lc_run 3
l=$(lc_wait_leader 10 3) || lc_fail "n3 did not lead after recover"
[ "$l" = 3 ] || lc_fail "leader n$l"
lc_until 10 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock 3)' -o json cluster status |
	jq '[.members[]|select(.role==\"voter\")]|length')\" = 1 ]" ||
	lc_fail "recovered cluster does not have 1 voter"
lc_ctl 3 config set budget-usd 7 || lc_fail "config write after recover"
lc_ctl 3 config get budget-usd | grep -q "7.00" || lc_fail "budget-usd not 7"
t=$(lc_ctl 3 token create) || lc_fail "token create after recover"
lc_join 6 "$t"
lc_until 30 bash -c "[ \"\$('$NTPCTL' -s '$(lc_sock 3)' -o json cluster status |
	jq '[.members[]|select(.role==\"voter\")]|length')\" = 2 ]" ||
	lc_fail "n6 did not become a voter after recover"
lc_log "ok"
