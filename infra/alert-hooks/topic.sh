#!/bin/sh
# ntpnode alert-hook example: publish the budget event (JSON on stdin) to
# an AWS SNS topic or a GCP Pub/Sub topic with the provider's CLI and the
# VM's own credentials (instance profile / service account).
#   NTPMC_ALERT_SNS_ARN=arn:aws:sns:...   or   NTPMC_ALERT_PUBSUB_TOPIC=name
#   alert-hook /usr/local/lib/ntpmc/topic.sh timeout 30
set -eu
ev=$(cat)
if [ -n "${NTPMC_ALERT_SNS_ARN:-}" ]; then
	exec aws sns publish --topic-arn "$NTPMC_ALERT_SNS_ARN" \
		--subject "ntpmc budget alert" --message "$ev"
fi
if [ -n "${NTPMC_ALERT_PUBSUB_TOPIC:-}" ]; then
	exec gcloud pubsub topics publish "$NTPMC_ALERT_PUBSUB_TOPIC" \
		--message "$ev"
fi
echo "topic.sh: set NTPMC_ALERT_SNS_ARN or NTPMC_ALERT_PUBSUB_TOPIC" >&2
exit 1
