# shellcheck shell=bash
# shellcheck disable=SC2154  # work, n, holder, inet, probe, ctlbin: the box's
# An accelerated week of rotation in the cloud in a box, a scenario for
# tools/cloud-in-a-box.sh -s (sourced: it uses the box's functions and
# variables). The box's three VMs boot as always (vm1 and vm2 AWS, vm3
# GCP); their hook for both providers is the image's box-provider, which
# asks the box's cloud to run the fake cloud's hook (infra/providers/fake)
# on that VM: a stop stops its ntpnode and wireguard-go, a start runs its
# ntpnode service again, the datadir stays. The schedule is the fleet's
# usual shape: vm1 is aws-a (mon-wed), vm2 aws-b (thu-sun), vm3 gcp-a
# (always), min-serving 2. The scheduler's clock (test-only) reads
# tuesday 2025-01-07 12:00 UTC about when the VMs are up and runs
# ROT_SPEED times as fast (default 5000: the week in about 120 s); the
# served time is the real one. While the week runs, monitors record:
#   - NTP: every VM's public address probed from the internet every
#     ~0.2 s (LI != 3 counts);
#   - the leader, as vm3's status says, every ~20 ms;
#   - writes: `config set budget-usd N` through vm3, one after the other.
# Asserted: at every sample at least min-serving VMs answer NTP; no
# leaderless time longer than the election timeout; every write refused
# for at most 200 ms around a planned leadership move; no acknowledged
# write lost (the last one everywhere, one FSM hash); every planned stop
# comes after its VM was out of every count; the hours ledger within 1 %
# of the fake cloud's own record; the week ends as scheduled.
# Prints the figures; ROT_REPORT=FILE also writes them there.

: "${ROT_SPEED:=5000}"
: "${ROT_DAYS:=7}"
# the scheduler reads tue 2025-01-07 12:00:00 UTC 20 s from now (about
# when the box's VMs serve); before, the days before it (no schedule yet:
# every member always on)
rot_real0=$(($(date +%s) + 20))
rot_sched0=1736251200

# VM I's config lines (its user data's NTPMC_CONF)
cib_conf_extra() {
	cat <<CONF
test-mode yes
rotation-test-clock $rot_real0 $rot_sched0 $ROT_SPEED
provider-hook aws /usr/local/sbin/box-provider
provider-hook gcp /usr/local/sbin/box-provider
CONF
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# real unix ms -> scheduler ms
sched_of() { echo $((rot_sched0 * 1000 + ($1 - rot_real0 * 1000) * ROT_SPEED)); }
# VM I's instance id, as its first boot wrote it into its config (GCP:
# the instance name)
iid() { awk '$1 == "instance-id" { print $2 }' "$(vmfile "$1" /etc/ntpnode/ntpnode.conf)"; }
# the start of process PID in unix ms (/proc/uptime and the process's start
# in clock ticks since boot: 10 ms steps)
started_ms() {
	awk -v now="$(now_ms)" -v hz="$(getconf CLK_TCK)" '
		FILENAME == "/proc/uptime" { up = $1; next }
		{ sub(/^.*\) /, ""); st = $20 }
		END { printf "%.0f", now - (up - st / hz) * 1000 }' \
		/proc/uptime "/proc/$1/stat"
}

# The VMs in the fake cloud ($work/cloud/ID): `start` starts the VM's
# ntpnode service (which starts wireguard-go) and lives as long as that
# ntpnode; both are its other processes, stopped with it. The VMs' first
# incarnation is the box's: recorded as started when its ntpnode did.
rot_cloud() {
	local i d h p w t
	for i in $(seq "$n"); do
		d=$work/cloud/$(iid "$i")
		h=${holder[i]}
		mkdir -p "$d"
		cat >"$d/start" <<START
#!/bin/sh
in_vm() { nsenter -t $h -m -u -n -r -w /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "\$@"; }
in_vm systemctl start ntpnode.service || exit 1
p=\$(cat /proc/$h/root/run/box/ntpnode.service.pid) || exit 1
echo "\$p" >>$d/pids
for _ in \$(seq 100); do
	w=\$(cat /proc/$h/root/run/wireguard/wg-ntp.pid 2>/dev/null) &&
		kill -0 "\$w" 2>/dev/null && { echo "\$w" >>$d/pids; break; }
	sleep 0.1
done
exec tail -s 0.2 --pid="\$p" -f /dev/null
START
		chmod +x "$d/start"
		p=$(cat "$(vmfile "$i" /run/box/ntpnode.service.pid)")
		w=$(cat "$(vmfile "$i" /run/wireguard/wg-ntp.pid)")
		if ! kill -0 "$p" || ! kill -0 "$w"; then
			fail "VM $i: its ntpnode or wireguard-go is not running"
		fi
		t=$(started_ms "$p")
		tail -s 0.2 --pid="$p" -f /dev/null </dev/null >/dev/null 2>&1 &
		pids+=($!)
		echo "$!" >"$d/pid"
		printf '%s\n' "$p" "$w" >"$d/pids"
		echo "start $t" >"$d/events"
	done
}

# --- monitors (background loops, stopped by PID) ---------------------------

probe() {
	inns "$inet" "$probe" -a "$1" -p 123 --count 1 --timeout 0.2 \
		--interval 0.01 2>/dev/null | awk 'NR == 1 { print ($3 != 3) }'
}
mon_ntp() {
	local t a b c
	while :; do
		t=$(now_ms)
		a=$(probe 10.250.1.2) b=$(probe 10.250.2.2) c=$(probe 10.250.3.2)
		echo "$t ${a:-0} ${b:-0} ${c:-0}"
	done
}
mon_leader() {
	local t j re='"leader_id":"([0-9]+)".*"view":"leader"'
	while :; do
		t=$(now_ms)
		j=$("$ctlbin" -s "$rot_sock3" -o json cluster status \
			2>/dev/null) || j=
		if [[ $j =~ $re ]]; then
			echo "$t leader ${BASH_REMATCH[1]}"
		else
			echo "$t none none"
		fi
		sleep 0.01
	done
}
mon_writes() {
	local k=0 t0
	# stops between writes: the last one is acknowledged or refused
	while [ ! -e "$work/stop-writes" ]; do
		k=$((k + 1))
		t0=$(now_ms)
		if "$ctlbin" -s "$rot_sock3" config set budget-usd "$k" \
			>/dev/null 2>&1; then
			echo "$t0 $(now_ms) ok $k"
		else
			echo "$t0 $(now_ms) fail $k"
		fi
		sleep 0.02
	done
}
# the rotation's audit lines, kept as they come (the trail holds 1,000)
mon_log() {
	while :; do
		ctl 3 -o json rotation status 2>/dev/null |
			jq -c '.log[]' 2>/dev/null || true
		sleep 1
	done
}

rot_figures() {
	echo "$*"
	if [ -n "${ROT_REPORT:-}" ]; then echo "$*" >>"$ROT_REPORT"; fi
}

# The ms of the last swap (mon 00:00 or thu 00:00) at or before scheduler
# ms T.
last_swap() {
	local d t=$(($1 / 1000)) mon
	d=$(date -u -d "@$t" +%u)
	mon=$(($(date -u -d "$(date -u -d "@$t" +%F)" +%s) - (d - 1) * 86400))
	if [ "$d" -ge 4 ]; then
		echo $(((mon + 3 * 86400) * 1000))
	else
		echo $((mon * 1000))
	fi
}

cib_scenario() {
	local m1 m2 m3 m4 week_end st s0 sw nx k
	rot_sock3=$(vmfile 3 /run/ntpnode/ctl.sock)
	rot_cloud
	ctl 3 rotation set vm1 mon-wed >&2 || fail "rotation set vm1"
	ctl 3 rotation set vm2 thu-sun >&2 || fail "rotation set vm2"
	if ctl 3 rotation set vm3 never 2>"$work/err"; then
		fail "vm3 never accepted"
	fi
	log "refused: $(cat "$work/err")"
	mon_ntp >"$work/ntp.log" &
	m1=$!
	mon_leader >"$work/leader.log" &
	m2=$!
	mon_writes >"$work/writes.log" &
	m3=$!
	mon_log >"$work/audit.log" &
	m4=$!
	pids+=("$m1" "$m2" "$m3" "$m4")
	# ROT_DAYS from now, ending at least 18 h after a swap (mon or thu
	# 00:00) and 18 h before the next, so that the end state is checked
	# away from any swap
	s0=$(sched_of "$(now_ms)")
	week_end=$((s0 + ROT_DAYS * 86400000))
	sw=$(last_swap "$week_end")
	nx=$(last_swap $((week_end + 3 * 86400000)))
	[ "$nx" != "$sw" ] || nx=$(last_swap $((week_end + 4 * 86400000)))
	if [ $((week_end - sw)) -lt 64800000 ]; then
		week_end=$((sw + 64800000))
	elif [ $((nx - week_end)) -lt 64800000 ]; then
		week_end=$((nx + 64800000))
	fi
	log "the week: from $(date -u -d @$((s0 / 1000)) '+%a %F %H:%M'), $ROT_DAYS days at ${ROT_SPEED}x, until the scheduler reads $(date -u -d @$((week_end / 1000)) '+%a %F %H:%M')"
	k=0
	while [ "$(sched_of "$(now_ms)")" -lt "$week_end" ]; do
		sleep 1
		k=$((k + 1))
		[ $((k % 5)) = 0 ] || continue
		st=$(ctl 3 -o json rotation status 2>/dev/null) || continue
		log "$(jq -r '.time + " " + ([.members[] | .name + ":" + .state] | join(" "))' <<<"$st")"
	done
	# the state at the end of the week, checked last
	rot_end=$(ctl 3 -o json rotation status) || fail "rotation status"
	: >"$work/stop-writes"
	wait "$m3" 2>/dev/null || true
	kill "$m1" "$m2" "$m4" 2>/dev/null || true
	wait "$m1" "$m2" "$m4" 2>/dev/null || true
	ctl 3 rotation status >&2 || true
	rot_check
}

rot_check() {
	local et acked lasts hashes="" i h fake_h led_h to st stops=0 what t d
	et=$(ctl 3 config get election-timeout | awk '{ print $2 }')

	# NTP: at least min-serving (2) VMs answer at every sample
	awk -v f="$work/ntp.gaps" '{ c = $2 + $3 + $4; n++
		if (c < 2) { bad++; print > f }
		if (last && $1 - last > gap) gap = $1 - last; last = $1 }
		END { printf "%d samples of the 3 public addresses (at most %d ms apart), below min-serving %d\n", n, gap, bad + 0
		      exit bad > 0 }' "$work/ntp.log" >"$work/ntp.sum" ||
		fail "NTP below min-serving: $(head -5 "$work/ntp.gaps")"
	rot_figures "NTP: $(cat "$work/ntp.sum")"

	# leaderless time as vm3 saw it; leadership moves
	awk -v et="$et" -v mv="$work/moves" '
		{ t = $1; ok = ($2 == "leader" && $3 != "none")
		  if (prev && t - prev > step) step = t - prev; prev = t }
		ok && $3 != last { if (last != "") { moves++; print t > mv }
				   last = $3 }
		!ok && !gap { gap = 1; g0 = t }
		ok && gap { gap = 0; d = t - g0; if (d > max) max = d; n++ }
		END { printf "leader moves %d, leaderless windows %d, longest %d ms (election timeout %d ms; samples at most %d ms apart)\n", moves, n, max, et, step
		      exit max > et }' "$work/leader.log" >"$work/leader.sum" ||
		fail "leaderless too long: $(cat "$work/leader.sum")"
	rot_figures "leader: $(cat "$work/leader.sum")"

	# writes refused: from the first refused to the next accepted
	awk '
		$3 == "fail" && !w { w = 1; w0 = $1 }
		$3 == "ok" && w { w = 0; d = $1 - w0; n++; if (d > max) max = d
				  list = list " " d }
		$3 == "ok" { ok++ } $3 == "fail" { fails++ }
		END { printf "writes %d acknowledged, %d refused, in %d windows, longest %d ms:%s\n", ok, fails, n, max, list
		      exit max > 200 }' "$work/writes.log" >"$work/writes.sum" ||
		fail "writes refused too long: $(cat "$work/writes.sum")"
	rot_figures "writes: $(cat "$work/writes.sum")"
	# the writes around each leadership move: the slowest, in ms
	touch "$work/moves"
	while read -r t; do
		rot_figures "leadership move at $t: $(awk -v t="$t" '
			$2 >= t - 1000 && $1 <= t + 1000 { n++; l = $2 - $1
				if (l > max) max = l; if ($3 == "fail") f++ }
			END { printf "%d writes within 1 s, %d refused, slowest %d ms", n, f, max }' \
			"$work/writes.log")"
	done <"$work/moves"

	# no acknowledged write lost: the last one on every member, one hash
	acked=$(awk '$3 == "ok" { v = $4 } END { print v }' "$work/writes.log")
	local voters=""
	for i in $(seq "$n"); do
		# the members the log reaches (a spare hears nothing)
		[ "$(ctl 3 -o json cluster status | jq -r --arg m "vm$i" \
			'.members[] | select(.name == $m) | .role')" != spare ] ||
			continue
		voters+=" $i"
		# (a member that did not acknowledge it applies it a moment
		# later: committed is enough, within 2 s)
		for _ in $(seq 20); do
			lasts=$(ctl "$i" config get budget-usd | awk '{ print $2 }')
			[ "$lasts" = "$acked.00" ] && break
			sleep 0.1
		done
		[ "$lasts" = "$acked.00" ] ||
			fail "vm$i has budget-usd $lasts, last acknowledged $acked"
	done
	# one state: the members' backups at one raft index have one hash
	# (the ledger keeps committing: tried until they are taken at the
	# same index; a member behind the leader refuses a backup a moment)
	local tries idx j
	for tries in $(seq 50); do
		hashes="" idx=""
		for i in $voters; do
			j=$(ctl "$i" -o json backup --force "$work/b$i" 2>/dev/null) ||
				break
			idx+=" $(jq -r .index <<<"$j")"
			hashes+=" $(jq -r .state_hash <<<"$j")"
		done
		[ "$(echo "$idx" | wc -w)" = "$(echo "$voters" | wc -w)" ] &&
			[ "$(echo "$idx" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = 1 ] &&
			break
		sleep 0.1
	done
	[ "$(echo "$idx" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = 1 ] ||
		fail "no backups of every voter at one index in $tries tries:$idx"
	[ "$(echo "$hashes" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = 1 ] ||
		fail "FSM hashes differ at index${idx%% *}:$hashes"
	rot_figures "no acknowledged write lost: budget-usd $acked.00 on every voter, one FSM hash"

	# every planned stop: out of every count before the VM stopped
	jq -r 'select(.text | test("^rotation vm[0-9] stopping \\(parked\\): spare: out of every count")) |
		"\(.time_ms) \(.text | capture("^rotation (?<m>vm[0-9])").m)"' \
		"$work/audit.log" | sort -u >"$work/drained"
	for i in $(seq "$n"); do
		while read -r what t; do
			[ "$what" = stop ] || continue
			stops=$((stops + 1))
			d=$(awk -v m="vm$i" -v t="$t" '$2 == m && $1 <= t { print $1 }' \
				"$work/drained" | tail -n 1)
			[ -n "$d" ] || fail "vm$i stopped at $t without being drained first"
		done <"$work/cloud/$(iid "$i")/events"
	done
	[ "$stops" -ge 3 ] || fail "only $stops planned stops in the week"
	rot_figures "planned stops: $stops, each after its VM was out of every count"

	# the ledger against the fake cloud's record, up to what it counted
	st=$(ctl 3 -o json rotation status) || fail "rotation status"
	for i in $(seq "$n"); do
		led_h=$(jq -r --arg m "vm$i" '.members[] | select(.name == $m) | .hours_committed' <<<"$st")
		to=$(jq -r --arg m "vm$i" '.members[] | select(.name == $m) | .counted_to' <<<"$st")
		# running intervals (real ms -> scheduler ms), cut at counted_to
		fake_h=$(awk -v r0="$rot_real0" -v s0="$rot_sched0" -v sp="$ROT_SPEED" -v to="$to" '
			function sc(x) { return s0 * 1000 + (x - r0 * 1000) * sp }
			$1 == "start" { on = sc($2) }
			$1 == "stop" && on { e = sc($2); if (e > to) e = to
					     if (e > on) sum += e - on; on = 0 }
			END { if (on && to > on) sum += to - on
			      printf "%.3f", sum / 3600000 }' \
			"$work/cloud/$(iid "$i")/events")
		awk -v a="$led_h" -v b="$fake_h" 'BEGIN { d = a - b; if (d < 0) d = -d
			exit !(b > 0 && d <= 0.01 * b) }' ||
			fail "vm$i: ledger $led_h h, fake cloud $fake_h h: more than 1 % apart"
		rot_figures "ledger vm$i: $led_h h, fake cloud $fake_h h"
	done

	# the week ended as scheduled: aws-a (vm1) on from monday to
	# wednesday, else aws-b (vm2)
	local on=vm2 off=vm1 day
	day=$(date -u -d "$(jq -r .time <<<"$rot_end") UTC" +%u)
	[ "$day" -gt 3 ] || { on=vm1 off=vm2; }
	jq -e --arg m "$on" '[.members[] | select(.name == $m and .state == "running")] | length == 1' \
		<<<"$rot_end" >/dev/null || fail "$on is not running at $(jq -r .time <<<"$rot_end")"
	jq -e --arg m "$off" '[.members[] | select(.name == $m and .state == "stopped")] | length == 1' \
		<<<"$rot_end" >/dev/null || fail "$off is not stopped at $(jq -r .time <<<"$rot_end")"
	log "rotation week: OK"
}
