// amlguard in one subscription: `azd up`. First CI step where the compiler exists: `az bicep build --file infra/main.bicep`.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name; names and tags derive from it.')
param environmentName string

@description('Region of the resource group and the Function App.')
param location string

@description('Entra app registration (client id) that fronts the HTTP API; App Service authentication validates its tokens and app roles (AmlGuard.Remediate, AmlGuard.Read).')
param authClientId string

@description('Subscriptions amlguard watches and may act in (default: this one).')
param watchedSubscriptionIds array = [subscription().subscriptionId]

@allowed(['alert', 'remediate', 'off'])
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

@description('Log Analytics workspace (resource id) the failed-authentication spike detector queries; amlguard gets Log Analytics Reader on it.')
param spikeWorkspaceResourceId string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var role = loadJsonContent('amlguard-role.json')

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
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
    authClientId: authClientId
    watchedSubscriptionIds: watchedSubscriptionIds
    defaultMode: defaultMode
    ruleModes: ruleModes
    dryRun: dryRun
    teamsWebhookUrl: teamsWebhookUrl
    emailTo: emailTo
    enableEmail: enableEmail
    spikeWorkspaceResourceId: spikeWorkspaceResourceId
  }
}

// Least privilege: exactly the ARM actions the code uses (infra/amlguard-role.json = src/permissions.ts; tested).
resource amlguardRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, 'amlguard-remediator', environmentName)
  properties: {
    roleName: 'amlguard remediator (${environmentName}, ${subscription().subscriptionId})'
    description: role.description
    type: 'customRole'
    permissions: [
      {
        actions: role.actions
        notActions: []
      }
    ]
    assignableScopes: [subscription().id]
  }
}

resource amlguardRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, amlguardRole.id, environmentName)
  properties: {
    roleDefinitionId: amlguardRole.id
    principalId: app.outputs.identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AMLGUARD_FUNCTION_APP_NAME string = app.outputs.functionAppName
output AMLGUARD_STORAGE_ACCOUNT_NAME string = app.outputs.storageAccountName
output AMLGUARD_PRINCIPAL_OBJECT_ID string = app.outputs.identityPrincipalId
