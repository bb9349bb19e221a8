#!/bin/sh
# After the code is deployed: subscribe the resourceEvents function to the subscription's ARM events.
# Azure refuses an Event Grid subscription whose AzureFunction endpoint does not exist yet, hence a hook.
set -eu
: "${AZURE_RESOURCE_GROUP:?azd sets it from main.bicep's output}"
: "${AMLGUARD_FUNCTION_APP_NAME:?azd sets it from main.bicep's output}"
: "${AMLGUARD_STORAGE_ACCOUNT_NAME:?azd sets it from main.bicep's output}"
az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --template-file "$(dirname "$0")/../eventgrid.bicep" \
  --parameters functionAppName="$AMLGUARD_FUNCTION_APP_NAME" storageAccountName="$AMLGUARD_STORAGE_ACCOUNT_NAME" \
    maxDeliveryAttempts="${AMLGUARD_MAX_DELIVERY_ATTEMPTS:-30}" \
  --output none
echo "amlguard: Event Grid subscription to ${AMLGUARD_FUNCTION_APP_NAME}/resourceEvents is in place."
