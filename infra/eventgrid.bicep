// One watched subscription's ARM events to amlguard's resourceEvents function. Deployed per watched subscription by
// infra/hooks/postdeploy.sh (scripts/postdeploy.ts), after the code: an AzureFunction destination must exist when the
// event subscription is created. Only one system topic may exist per subscription, so postdeploy finds it wherever it
// lives (Defender and other tools often create it) and passes it here; a topic is created only when there is none.
// Either way the topic's identity gets the dead-letter role. Delivery path and sources: docs/eventgrid-delivery.md.
targetScope = 'subscription'

@description('Region of the deployment record and of a resource group created for a new topic.')
param location string

@description('Resource group of the subscription\'s system topic (found by postdeploy, or where a new one goes).')
param topicResourceGroup string

@description('Name of the subscription\'s system topic.')
param topicName string

@description('No system topic exists for this subscription: create it (with a system-assigned identity).')
param createTopic bool

@description('The resource group of a new topic does not exist yet (a watched subscription other than amlguard\'s).')
param createResourceGroup bool = false

@description('Identity the topic dead-letters with: {type: \'SystemAssigned\'} or {type: \'UserAssigned\', userAssignedIdentity: <id>}.')
param deadLetterIdentity object = { type: 'SystemAssigned' }

@description('Principal id of that identity on an existing topic; a new topic\'s comes from its creation.')
param deadLetterPrincipalId string = ''

@description('amlguard\'s Function App (resource id).')
param functionAppId string

@description('amlguard\'s storage account (resource id): holds the dead-letter container.')
param storageAccountId string

@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

param tags object = {}

resource eventsGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = if (createResourceGroup) {
  name: topicResourceGroup
  location: location
  tags: tags
}

module newTopic 'modules/system-topic.bicep' = if (createTopic) {
  name: 'amlguard-system-topic'
  scope: resourceGroup(topicResourceGroup)
  dependsOn: [eventsGroup]
  params: {
    topicName: topicName
    tags: tags
  }
}

// Dead letters go to amlguard's storage account (shared keys off): the topic's identity writes them, whichever topic.
module deadLetterWriter 'modules/dead-letter-writer.bicep' = {
  name: 'amlguard-dead-letter-writer-${uniqueString(subscription().id)}'
  scope: resourceGroup(split(storageAccountId, '/')[2], split(storageAccountId, '/')[4])
  params: {
    storageAccountName: last(split(storageAccountId, '/'))
    principalId: createTopic ? newTopic!.outputs.principalId : deadLetterPrincipalId
  }
}

module delivery 'modules/event-subscription.bicep' = {
  name: 'amlguard-event-subscription'
  scope: resourceGroup(topicResourceGroup)
  dependsOn: [newTopic, deadLetterWriter]
  params: {
    topicName: topicName
    functionAppId: functionAppId
    storageAccountId: storageAccountId
    deadLetterIdentity: deadLetterIdentity
    maxDeliveryAttempts: maxDeliveryAttempts
  }
}

output topicId string = resourceId(subscription().subscriptionId, topicResourceGroup, 'Microsoft.EventGrid/systemTopics', topicName)
