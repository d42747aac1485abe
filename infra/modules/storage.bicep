// The app's storage account: Functions host state, the deployment package,
// the queues between functions and the tables behind the issue store.
// Reached only with Entra ID (shared keys off), over HTTPS with TLS 1.2.

param name string
param location string
param tags object

// Names are a contract with the code (ARCHITECTURE.md, Storage). The -poison
// queues are created up front so operators and producers can watch them
// before the Functions host first dead-letters a message.
var queueNames = [
  'alerts'
  'alerts-poison'
  'deliveries'
  'deliveries-poison'
  'card-refresh'
  'card-refresh-poison'
  'issue-events'
  'issue-events-poison'
  'member-sync'
  'member-sync-poison'
  'slack-actions'
  'slack-actions-poison'
]
var tableNames = [
  'issues'
  'activities'
  'cards'
  'deliveries'
  'installations'
  'identities'
  'subscriptions'
  'linktokens'
  'events'
  'instances'
  'releases'
]
var deploymentContainerName = 'app-package'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

output name string = account.name
output id string = account.id
output queueEndpoint string = account.properties.primaryEndpoints.queue
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
