// The subscription's ARM events to amlguard's resourceEvents function. Deployed by infra/hooks/postdeploy.sh, after
// the code: an AzureFunction endpoint must exist when the event subscription is created.
// Only one system topic may exist per subscription: set existingSystemTopicName to reuse one (Defender often has one).
targetScope = 'resourceGroup'

param functionAppName string
param storageAccountName string
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30
param existingSystemTopicName string = ''

var filter = loadJsonContent('event-filter.json')
var topicName = empty(existingSystemTopicName) ? 'amlguard-arm-events' : existingSystemTopicName

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource newTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (empty(existingSystemTopicName)) {
  name: topicName
  location: 'global'
  identity: { type: 'SystemAssigned' }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: topicName
}

// The topic's identity writes dead letters; shared keys are off on the account.
resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (empty(existingSystemTopicName)) {
  name: guid(storage.id, topicName, 'Storage Blob Data Contributor')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
    principalId: newTopic!.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource subscriptionToFunction 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'amlguard-ml-writes'
  dependsOn: [newTopic, deadLetterWriter]
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/resourceEvents'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: filter.includedEventTypes
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: filter.operationNames
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: 'eventgrid-deadletter'
        }
      }
    }
  }
}
