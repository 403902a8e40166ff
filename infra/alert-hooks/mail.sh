#!/bin/sh
# ntpnode alert-hook example: mail the budget event (JSON on stdin) with
# sendmail(8). Set NTPMC_ALERT_TO in the unit's environment (or edit).
#   alert-hook /usr/local/lib/ntpmc/mail.sh timeout 20
set -eu
to=${NTPMC_ALERT_TO:-root}
ev=$(cat)
{
	printf 'To: %s\nSubject: ntpmc budget alert\n\n' "$to"
	printf '%s\n' "$ev"
} | /usr/sbin/sendmail -t
