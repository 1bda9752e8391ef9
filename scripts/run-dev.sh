#!/usr/bin/env bash
# Runs a frontdesk command with development keys for whatever the policy needs and is unset.
# These keys are for trying frontdesk out on your own machine only.
set -euo pipefail
dev=()
for var in RETELL_API_KEY CALCOM_WEBHOOK_SECRET; do
  if [ -z "${!var:-}" ]; then
    export "$var=dev-only-${var,,}"
    dev+=("$var")
  fi
done
if [ ${#dev[@]} -gt 0 ]; then
  echo "frontdesk: DEVELOPMENT KEYS in use for ${dev[*]} (value: dev-only-<name in lower case>)." >&2
  echo "frontdesk: set them in the environment for anything but a local try-out." >&2
fi
mkdir -p var
exec "$@"
