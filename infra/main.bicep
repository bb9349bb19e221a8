// amlguard: `azd up` (or `az deployment sub create --template-file infra/main.bicep`). Compiled and linted in CI by the
// real Bicep compiler (`npm run bicep`); users can check it with `az bicep build --file infra/main.bicep`.
// The Event Grid side (infra/eventgrid.bicep, per watched subscription) is deployed by infra/hooks/postdeploy.sh after
// the code: Azure refuses an AzureFunction destination whose function does not exist yet.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name; names and tags derive from it.')
param environmentName string

@description('Region of the resource group and the Function App.')
param location string

@description('Entra app registration (client id) of the HTTP API. The app validates Entra tokens in-process against this audience and the tenant.')
param authClientId string

@description('Audience the HTTP API accepts in Entra access tokens; empty means api://<authClientId> (the Application ID URI, the aud of v1.0 tokens).')
param authAudience string = ''

@description('Subscriptions amlguard watches and may act in, comma-separated; empty means this one. Each gets the custom role and, from postdeploy, the Event Grid subscription.')
param watchedSubscriptionIds string = ''

@allowed(['alert', 'approve', 'remediate', 'off'])
@description('Mode of every rule not listed in ruleModes. Alert-only by default: switching a rule to remediate is a decision.')
param defaultMode string = 'alert'

@description('Per-rule modes, e.g. "workspace-public-network-access=remediate,endpoint-public-network-access=remediate".')
param ruleModes string = ''

@description('Plan and audit remediations without writing.')
param dryRun bool = false

@secure()
@description('Teams Workflows webhook URL (carries a signature): stored in Key Vault, referenced from the app settings.')
param teamsWebhookUrl string = ''

@description('Email recipients for high-severity alerts (comma-separated); empty means no email.')
param emailTo string = ''

@description('Create Azure Communication Services Email (Azure-managed domain) for alert email.')
param enableEmail bool = false

@description('Log Analytics workspace (resource id) for the spike detector and the traffic-log fix: amlguard gets Log Analytics Reader and a narrow custom role on it, nothing more. azd: AMLGUARD_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID, the app setting of the same name.')
param logAnalyticsWorkspaceResourceId string = ''

@description('Deprecated (azd: AMLGUARD_SPIKE_WORKSPACE_RESOURCE_ID), accepted for one release: use logAnalyticsWorkspaceResourceId.')
param spikeWorkspaceResourceId string = ''

@minValue(1)
@maxValue(30)
@description('Event Grid delivery attempts per event; the last one alerts instead of throwing.')
param maxDeliveryAttempts int = 30

// One name for the workspace (issue 15): the old azd variable still works for one release when the new one is unset.
var logAnalyticsWorkspace = empty(logAnalyticsWorkspaceResourceId) ? spikeWorkspaceResourceId : logAnalyticsWorkspaceResourceId

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var listed = filter(map(split(watchedSubscriptionIds, ','), id => trim(id)), id => !empty(id))
var watched = empty(listed) ? [subscription().subscriptionId] : listed

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-amlguard-${environmentName}'
  location: location
  tags: tags
}

module app 'modules/app.bicep' = {
  name: 'amlguard-app'
  scope: rg
  params: {
    location: location
    resourceToken: resourceToken
    tags: tags
    authAudience: empty(authAudience) ? 'api://${authClientId}' : authAudience
    watchedSubscriptionIds: watched
    defaultMode: defaultMode
    ruleModes: ruleModes
    dryRun: dryRun
    teamsWebhookUrl: teamsWebhookUrl
    emailTo: emailTo
    enableEmail: enableEmail
    logAnalyticsWorkspaceResourceId: logAnalyticsWorkspace
    maxDeliveryAttempts: maxDeliveryAttempts
  }
}

// In every watched subscription: the custom role with exactly the ARM actions the code uses (assignable there only),
// assigned to amlguard's identity.
module access 'modules/watched-subscription.bicep' = [
  for subscriptionId in watched: {
    name: 'amlguard-access-${uniqueString(subscriptionId, environmentName)}'
    scope: subscription(subscriptionId)
    params: {
      environmentName: environmentName
      principalId: app.outputs.identityPrincipalId
    }
  }
]

// The Log Analytics workspace the spike detector queries and the traffic-log fix sends to: roles on it alone.
module logAnalyticsRole 'modules/log-analytics-target-role.bicep' = if (!empty(logAnalyticsWorkspace)) {
  name: 'amlguard-log-analytics-role-${uniqueString(logAnalyticsWorkspace, environmentName)}'
  scope: subscription(split(logAnalyticsWorkspace, '/')[2])
  params: {
    workspaceResourceId: logAnalyticsWorkspace
    environmentName: environmentName
  }
}

module logAnalyticsAccess 'modules/log-analytics-access.bicep' = if (!empty(logAnalyticsWorkspace)) {
  name: 'amlguard-log-analytics-access'
  scope: resourceGroup(split(logAnalyticsWorkspace, '/')[2], split(logAnalyticsWorkspace, '/')[4])
  params: {
    workspaceName: last(split(logAnalyticsWorkspace, '/'))
    principalId: app.outputs.identityPrincipalId
    targetRoleId: logAnalyticsRole!.outputs.roleDefinitionId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AMLGUARD_FUNCTION_APP_NAME string = app.outputs.functionAppName
output AMLGUARD_FUNCTION_APP_ID string = app.outputs.functionAppId
output AMLGUARD_STORAGE_ACCOUNT_ID string = app.outputs.storageAccountId
output AMLGUARD_PRINCIPAL_OBJECT_ID string = app.outputs.identityPrincipalId
output AMLGUARD_WATCHED_SUBSCRIPTION_IDS string = join(watched, ',')
output AMLGUARD_MAX_DELIVERY_ATTEMPTS int = maxDeliveryAttempts
