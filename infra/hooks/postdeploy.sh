#!/bin/sh
# azd postdeploy: after the code is deployed, in every watched subscription, find (or create) the subscription's Event
# Grid system topic and subscribe the resourceEvents function to it. Azure refuses an AzureFunction destination that
# does not exist yet, hence a hook. The logic is scripts/postdeploy.ts (tested against recorded az outputs);
# azd's prepackage hook ran `npm ci`, so tsx is there. Idempotent: a second `azd up` changes nothing.
set -eu
cd "$(dirname "$0")/../.."
# One name for the Log Analytics workspace since issue 15; the old azd variable is still read for one release.
if [ -n "${AMLGUARD_SPIKE_WORKSPACE_RESOURCE_ID:-}" ] && [ -z "${AMLGUARD_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID:-}" ]; then
  echo "warning: AMLGUARD_SPIKE_WORKSPACE_RESOURCE_ID is deprecated and will stop working in the next release: azd env set AMLGUARD_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID '<the same id>'" >&2
fi
exec npx --no-install tsx scripts/postdeploy.ts
