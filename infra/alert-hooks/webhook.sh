#!/bin/sh
# ntpnode alert-hook example: post the budget event to a chat webhook
# (Slack, Mattermost, Discord accept {"text": ...}).
#   NTPMC_ALERT_WEBHOOK=https://hooks.example/...
#   alert-hook /usr/local/lib/ntpmc/webhook.sh timeout 20
set -eu
url=${NTPMC_ALERT_WEBHOOK:?set NTPMC_ALERT_WEBHOOK}
ev=$(cat)
text=$(printf '%s' "$ev" | jq -r .text)
jq -n --arg t "ntpmc: $text" '{text: $t}' |
	curl -fsS --max-time 15 -H 'Content-Type: application/json' \
		--data-binary @- "$url"
