// The Function App and what it needs, in one resource group: user-assigned identity, storage without shared keys,
// Application Insights with Entra authentication, Key Vault for the webhook secret, Flex Consumption (Node 22),
// optional Communication Services Email. No App Service authentication: Event Grid delivers to the AzureFunction
// destination with the host's system key, and the HTTP API validates Entra tokens in-process (docs/eventgrid-delivery.md).
targetScope = 'resourceGroup'

param location string
param resourceToken string
param tags object
param authAudience string
param watchedSubscriptionIds array
param defaultMode string
param ruleModes string
param dryRun bool
@secure()
param teamsWebhookUrl string
param emailTo string
param enableEmail bool
param logAnalyticsWorkspaceResourceId string
param maxDeliveryAttempts int

var appName = 'func-amlguard-${resourceToken}'
var deploymentContainer = 'app-package-${take(resourceToken, 20)}'
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  communicationAndEmailServiceOwner: '09976791-48a7-449e-bb21-39d1a415f350'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-amlguard-${resourceToken}'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: 'stamlguard${take(resourceToken, 12)}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { bypass: 'AzureServices', defaultAction: 'Allow' }
  }
  resource blobs 'blobServices' = {
    name: 'default'
    resource deployment 'containers' = {
      name: deploymentContainer
      properties: { publicAccess: 'None' }
    }
    resource deadLetters 'containers' = {
      name: 'eventgrid-deadletter'
      properties: { publicAccess: 'None' }
    }
  }
}

// State, audit trail, outbox (tables), host (blobs, queues): data-plane roles only, scoped to this account.
resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]: {
    name: guid(storage.id, identity.id, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource logs 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: 'log-amlguard-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-amlguard-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: 'kv-amlguard-${take(resourceToken, 12)}'
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
  resource teamsWebhook 'secrets' = if (!empty(teamsWebhookUrl)) {
    name: 'teams-webhook-url'
    properties: { value: teamsWebhookUrl }
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource emailService 'Microsoft.Communication/emailServices@2025-09-01' = if (enableEmail) {
  name: 'email-amlguard-${resourceToken}'
  location: 'global'
  properties: { dataLocation: 'Europe' }
  resource domain 'domains' = {
    name: 'AzureManagedDomain'
    location: 'global'
    properties: {
      domainManagement: 'AzureManaged'
      userEngagementTracking: 'Disabled'
    }
  }
}

resource communication 'Microsoft.Communication/communicationServices@2025-09-01' = if (enableEmail) {
  name: 'acs-amlguard-${resourceToken}'
  location: 'global'
  properties: {
    dataLocation: 'Europe'
    linkedDomains: [emailService::domain.id]
  }
}

resource emailSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableEmail) {
  name: guid(resourceGroup().id, identity.id, roles.communicationAndEmailServiceOwner)
  scope: communication
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.communicationAndEmailServiceOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: 'plan-amlguard-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

var baseSettings = {
  // Identity-based host storage: no keys anywhere.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  AZURE_CLIENT_ID: identity.properties.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  AMLGUARD_SUBSCRIPTION_IDS: join(watchedSubscriptionIds, ',')
  AMLGUARD_PRINCIPAL_OBJECT_ID: identity.properties.principalId
  AMLGUARD_DEFAULT_MODE: defaultMode
  AMLGUARD_RULE_MODES: ruleModes
  AMLGUARD_DRY_RUN: string(dryRun)
  AMLGUARD_MAX_DELIVERY_ATTEMPTS: string(maxDeliveryAttempts)
  // The HTTP API validates Entra access tokens in-process: issuer from the tenant, audience of the API's registration.
  AMLGUARD_AUTH_TENANT_ID: tenant().tenantId
  AMLGUARD_AUTH_AUDIENCE: authAudience
  // No *_SCHEDULE settings: the code owns the timers' defaults and validates an override (src/schedule.ts).
}
// The spike detector queries this workspace (its customer id); its resource id builds the portal deep link.
var spikeSettings = empty(logAnalyticsWorkspaceResourceId) ? {} : {
  AMLGUARD_LOG_ANALYTICS_WORKSPACE_ID: reference(logAnalyticsWorkspaceResourceId, '2025-07-01').customerId
  AMLGUARD_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID: logAnalyticsWorkspaceResourceId
}
var teamsSettings = empty(teamsWebhookUrl) ? {} : {
  AMLGUARD_TEAMS_WEBHOOK_URL: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=teams-webhook-url)'
}
var emailSettings = enableEmail && !empty(emailTo) ? {
  AMLGUARD_ACS_ENDPOINT: 'https://${communication!.properties.hostName}'
  AMLGUARD_EMAIL_FROM: 'DoNotReply@${emailService::domain!.properties.mailFromSenderDomain}'
  AMLGUARD_EMAIL_TO: emailTo
} : {}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: { minTlsVersion: '1.2', ftpsState: 'Disabled' }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '22' }
    }
  }
  dependsOn: [storageRoles, secretsUser]

  resource settings 'config' = {
    name: 'appsettings'
    // Alerts link proposals (mode approve) to the approval page the app itself serves.
    properties: union(baseSettings, { AMLGUARD_PUBLIC_BASE_URL: 'https://${functionApp.properties.defaultHostName}' }, teamsSettings, emailSettings, spikeSettings)
  }
}

output functionAppName string = functionApp.name
output functionAppId string = functionApp.id
output storageAccountId string = storage.id
output identityPrincipalId string = identity.properties.principalId
