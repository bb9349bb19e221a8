// amlguard's event subscription on the subscription's system topic: the AzureFunction destination (Event Grid gets the
// host's system key itself; no App Service authentication in front), filtered on the operations the handler handles,
// with retries and dead-lettering through the topic's identity.
targetScope = 'resourceGroup'

param topicName string
param functionAppId string
param storageAccountId string
param deadLetterIdentity object
param maxDeliveryAttempts int

var filter = loadJsonContent('../event-filter.json')

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: topicName
}

resource toFunction 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'amlguard-ml-writes'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/resourceEvents'
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
      identity: deadLetterIdentity
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storageAccountId
          blobContainerName: 'eventgrid-deadletter'
        }
      }
    }
  }
}
