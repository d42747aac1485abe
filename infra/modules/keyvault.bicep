// Key Vault for the app's secrets, authorised with Azure RBAC (no access policies).
// Secret values are never part of a deployment: infra/deploy.sh writes them.

param name string
param location string
param purgeProtection bool
param softDeleteRetentionDays int
param tags object

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionDays
    // The API rejects `false` once purge protection is on; null leaves it as it is.
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
