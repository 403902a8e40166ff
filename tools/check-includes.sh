#!/usr/bin/env bash
# The layer map, checked: every project include must point down the arrows
# of docs/ARCHITECTURE.md ("Layout"); code names no tracker issue; and the
# daemon reads the realtime clock in one place (node/ntp/clk.c; the logger's
# timestamps aside), so the served time is the only wall clock it uses.
#   tools/check-includes.sh        exit 1 and one line per violation
# A folder may include itself, proto/ (generated) and the folders listed
# for it below; node/base includes nothing else of node/.
set -euo pipefail
cd "$(dirname "$0")/.."

# folder: what else it may include (longest folder prefix wins)
rules() {
	cat <<'RULES'
storage
raft storage
raft/transport raft storage
node/base
node/ntp node/base
node/ctl node/base
node/serve node/ntp node/base
node/time node/ntp node/base
node/cluster/wg node/base raft raft/transport
node/cluster node/cluster/wg node/ctl node/ntp node/base raft raft/transport storage
node/cluster/offline node/cluster node/ctl node/base raft raft/transport storage
node/crosscheck node/cluster node/ntp node/base
node/cost node/cluster node/ctl node/ntp node/base raft
node/metrics node/cluster node/ctl node/ntp node/base storage
node/rotation node/cluster node/ctl node/base raft
node/daemon node/cost node/crosscheck node/rotation node/cluster/offline node/cluster node/metrics node/serve node/time node/ctl node/ntp node/base storage
tools/ntpctl node/ctl node/base
tools node/ntp node/base raft raft/transport tools
RULES
}

# The folder whose rule applies to a file: the longest listed prefix.
folder_of() {
	local f=$1 best="" dir
	while read -r dir _; do
		case "$f" in
		"$dir"/*) [ ${#dir} -gt ${#best} ] && best=$dir ;;
		esac
	done < <(rules)
	case "$f" in
	tools/ntpctl.[ch] | tools/ntpctl_*.[ch] | tools/bkfile.[ch]) best=tools/ntpctl ;;
	esac
	echo "$best"
}

allowed() {
	local from=$1 to=$2 dir rest a
	# the included file's folder: the longest listed prefix of its path
	local tofolder
	tofolder=$(folder_of "$to")
	[ "$tofolder" = "$from" ] && return 0
	case "$to" in proto/*) return 0 ;; esac
	while read -r dir rest; do
		[ "$dir" = "$from" ] || continue
		for a in $rest; do
			[ "$tofolder" = "$a" ] && return 0
		done
	done < <(rules)
	# ntpctl's own files are tools files too
	[ "$from" = tools/ntpctl ] && [ "$tofolder" = tools ] && return 0
	return 1
}

bad=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	from=$(folder_of "$f")
	[ -n "$from" ] || continue
	while IFS= read -r inc; do
		if ! allowed "$from" "$inc"; then
			echo "$f: includes $inc ($from may not include $(folder_of "$inc"))"
			bad=1
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(git ls-files --cached --others --exclude-standard 'node/*.[ch]' \
	'raft/*.[ch]' 'storage/*.[ch]' 'tools/*.[ch]')

# Code, CMake and scripts speak of the code, not of the tracker.
if git grep -n -i -E 'issue [0-9]+' -- node raft storage proto tools tests \
	infra CMakeLists.txt .ci; then
	echo "the lines above name a tracker issue: say what the code does instead"
	bad=1
fi
# One realtime clock: everything else asks node/ntp (clk.h, tstate.h).
if git grep -n -E 'CLOCK_REALTIME|gettimeofday|[^_a-z]time\(NULL\)' -- \
	node raft storage ':!node/ntp/clk.c' ':!node/base/log.c'; then
	echo "the lines above read the realtime clock: use node/ntp/clk.h" \
		"(raw) or tstate_now_ns() (served)"
	bad=1
fi
exit "$bad"
