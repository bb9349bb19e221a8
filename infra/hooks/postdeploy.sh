#!/bin/sh
# azd postdeploy: after the code is deployed, in every watched subscription, find (or create) the subscription's Event
# Grid system topic and subscribe the resourceEvents function to it. Azure refuses an AzureFunction destination that
# does not exist yet, hence a hook. The logic is scripts/postdeploy.ts (tested against recorded az outputs);
# azd's prepackage hook ran `npm ci`, so tsx is there. Idempotent: a second `azd up` changes nothing.
set -eu
cd "$(dirname "$0")/../.."
exec npx --no-install tsx scripts/postdeploy.ts
