#!/usr/bin/env bash
# The datadir as an operator may leave it: init creates it private; a
# datadir or store open to other users, and a truncated store, make `run`
# and `recover --check` refuse with the path, the reason and the fix (never
# a SIGBUS), and the refusal changes nothing on disk.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"
lc_conf 1
data=$LC_DIR/n1/data
conf=$LC_DIR/n1/ntpnode.conf
rmdir "$data"     # init creates it

lc_init 1
lc_wait_leader 10 1 >/dev/null || lc_fail "no leader"
lc_ctl 1 config set budget-usd 7 >/dev/null || lc_fail "write"
lc_stop 1

mode() { stat -c %a "$1"; }
[ "$(mode "$data")" = 750 ] || lc_fail "datadir mode $(mode "$data")"
[ "$(mode "$data/store")" = 700 ] || lc_fail "store mode $(mode "$data/store")"
for f in data.mdb lock.mdb; do
	[ "$(mode "$data/store/$f")" = 600 ] ||
		lc_fail "$f mode $(mode "$data/store/$f")"
done

# Everything under the datadir: names, modes, sizes, contents; but the
# lock file, which records the PID of whoever took the lock last.
snap() {
	(cd "$data" && find . ! -name lock -printf '%p %m %s\n' | sort &&
		find . -type f ! -name lock -exec sha256sum {} + | sort)
}

# refuse WHAT PATTERN CMD...: CMD exits 1 (not a signal), says PATTERN on
# stderr, and the datadir is byte for byte as before.
refuse() {
	local what=$1 pat=$2 before rc=0
	shift 2
	before=$(snap)
	timeout 20 "${LC_SETPRIV[@]}" "$@" >"$LC_DIR/out" 2>"$LC_DIR/err" ||
		rc=$?
	[ "$rc" = 1 ] || lc_fail "$what: exit $rc, want 1: $(cat "$LC_DIR/err")"
	grep -q -- "$pat" "$LC_DIR/err" ||
		lc_fail "$what: no '$pat' in: $(cat "$LC_DIR/err")"
	[ "$(snap)" = "$before" ] || lc_fail "$what: the datadir changed"
	lc_log "$what: $(grep -- "$pat" "$LC_DIR/err" | head -n 1)"
}

chmod 0777 "$data"
refuse "run, datadir 0777" "datadir permissions: $data is writable by group or others (mode 0777): run chmod go-w $data" \
	"$NTPNODE" run -c "$conf"
refuse "recover --check, datadir 0777" "run chmod go-w $data" \
	"$NTPNODE" recover -c "$conf" --check
chmod 0750 "$data"
chmod 0644 "$data/store/data.mdb"
refuse "run, data.mdb 0644" "data.mdb is readable or writable by group or others (mode 0644): run chmod 600" \
	"$NTPNODE" run -c "$conf"
chmod 0600 "$data/store/data.mdb"

cp "$data/store/data.mdb" "$LC_DIR/data.mdb.good"
truncate -s 12288 "$data/store/data.mdb"
refuse "run, truncated store" "store damaged: .*data.mdb is 12288 bytes" \
	"$NTPNODE" run -c "$conf"
grep -q "join this node again" "$LC_DIR/err" || lc_fail "no runbook step"
refuse "recover --check, truncated store" "store damaged: .*cut short" \
	"$NTPNODE" recover -c "$conf" --check
refuse "join over a truncated store" "store damaged" \
	"$NTPNODE" join -c "$conf" --token "$LC_TOKEN"

lc_log "the store put back: the member starts with its state"
cp "$LC_DIR/data.mdb.good" "$data/store/data.mdb"
lc_run 1
lc_wait_leader 10 1 >/dev/null || lc_fail "no leader after the repair"
lc_ctl 1 config get budget-usd | grep -q "7\.00" || lc_fail "state lost"
lc_log "PASS"
