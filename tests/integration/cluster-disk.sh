#!/usr/bin/env bash
# A full disk: a single-member cluster whose datadir is a
# small tmpfs in a private mount namespace. Writes must be refused with a
# clear "no space" error once the store is nearly full, the member must keep
# answering and keep its state, and nothing may be corrupted: after a
# restart every write acknowledged before the disk filled is still there.
set -euo pipefail
here=$(dirname "$0")

if [ "${LC_IN_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
		echo "SKIP: needs root for unshare -m"
		exit 77
	fi
	LC_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

# shellcheck source-path=SCRIPTDIR
. "$here/lib-cluster.sh"
lc_setup "${LC_WORKDIR:-}"
lc_conf 1 "mapsize 64m"
data=$LC_DIR/n1/data
mount -t tmpfs -o size=4m,mode=0700 ntpmc-full "$data"
LC_UMOUNT=$data

lc_init 1
lc_wait_leader 10 1 >/dev/null || lc_fail "no leader"
for n in $(seq 1 20); do
	lc_ctl 1 config set budget-usd "$n" || lc_fail "write $n on free disk"
done

lc_log "fill the file system: writes must be refused, clearly"
dd if=/dev/zero of="$data/filler" bs=64k 2>/dev/null || true
if lc_ctl 1 config set budget-usd 999 2>"$LC_DIR/err"; then
	lc_fail "a write was accepted on a full disk"
fi
lc_log "refused: $(cat "$LC_DIR/err")"
grep -qi "space" "$LC_DIR/err" || lc_fail "unclear error: $(cat "$LC_DIR/err")"
lc_alive 1 || lc_fail "the member died on a full disk"
lc_status_json 1 >/dev/null || lc_fail "no status on a full disk"
lc_ctl 1 config get budget-usd | grep -q "20\.00" ||
	lc_fail "last acknowledged write lost"

lc_log "space back: writes are accepted again"
rm -f "$data/filler"
lc_until 10 lc_ctl 1 config set budget-usd 21 2>/dev/null ||
	lc_fail "writes still refused with free space"
ok=21

lc_log "restart: the acknowledged state survives"
lc_stop 1
lc_run 1
lc_wait_leader 10 1 >/dev/null || lc_fail "no leader after restart"
lc_ctl 1 config get budget-usd | grep -q "$ok\.00" ||
	lc_fail "acknowledged write lost across restart"
lc_log "PASS"
