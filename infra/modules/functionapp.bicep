// The Function App on Flex Consumption (Linux), running as the user-assigned identity.
// App settings follow the settings contract in ARCHITECTURE.md: storage through the
// identity, the bot as UserAssignedMSI, secrets only as Key Vault references.

param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
param identityTenantId string
param storageAccountName string
param deploymentContainerUrl string
param keyVaultUri string
param appInsightsConnectionString string
param nodeVersion string
param instanceMemoryMB int
param maximumInstanceCount int
param alwaysReadyHttpInstances int
param publicBaseUrl string
param slackClientId string
param discordApplicationId string = ''
param discordAllowedGuilds string = ''
param oidcIssuer string
param oidcClientId string
param teamsAllowedTenants string
param ingestEnabled bool
param sentryEnabled bool
@description('Settings without a parameter of their own; main.bicep\'s sealed type admits only those.')
param extraAppSettings object = {}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Without this, Key Vault references would be resolved with a system-assigned identity the app doesn't have.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      // Flex always runs from the package in this container; there is no WEBSITE_RUN_FROM_PACKAGE.
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ]
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// No publishing-profile user name and password: deploy.sh publishes with its Entra sign-in
// (https://aka.ms/app-service-disable-basic-auth).
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

var hostName = site.properties.defaultHostName

var coreSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // DefaultAzureCredential in app code picks the user-assigned identity from this.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  MicrosoftAppType: 'UserAssignedMSI'
  MicrosoftAppId: identityClientId
  MicrosoftAppTenantId: identityTenantId
  TEAMS_ALLOWED_TENANTS: teamsAllowedTenants
  PUBLIC_BASE_URL: empty(publicBaseUrl) ? 'https://${hostName}' : publicBaseUrl
  LINK_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/link-signing-key)'
}

// A feature's secrets are referenced only when the feature is configured: a reference
// to a missing secret would reach the code as the literal "@Microsoft.KeyVault(...)" text.
var slackSettings = empty(slackClientId)
  ? {}
  : {
      SLACK_CLIENT_ID: slackClientId
      SLACK_SIGNING_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/slack-signing-secret)'
      SLACK_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/slack-client-secret)'
    }

var discordSettings = empty(discordApplicationId)
  ? {}
  : {
      DISCORD_APPLICATION_ID: discordApplicationId
      DISCORD_ALLOWED_GUILDS: discordAllowedGuilds
      DISCORD_PUBLIC_KEY: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/discord-public-key)'
      DISCORD_BOT_TOKEN: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/discord-bot-token)'
    }

var oidcSettings = empty(oidcIssuer)
  ? {}
  : {
      OIDC_ISSUER: oidcIssuer
      OIDC_CLIENT_ID: oidcClientId
      OIDC_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/oidc-client-secret)'
    }

var ingestSettings = ingestEnabled
  ? {
      INGEST_TOKENS: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/ingest-tokens)'
    }
  : {}

var sentrySettings = ingestEnabled && sentryEnabled
  ? {
      SENTRY_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/sentry-client-secret)'
    }
  : {}

// First, so a setting the template sets always wins.
var appSettings = union(extraAppSettings, coreSettings, slackSettings, discordSettings, oidcSettings, ingestSettings, sentrySettings)

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

output name string = site.name
output id string = site.id
output hostName string = hostName
output publicBaseUrl string = coreSettings.PUBLIC_BASE_URL
output keyVaultSecretSettings string[] = map(
  filter(items(appSettings), setting => startsWith(setting.value, '@Microsoft.KeyVault(')),
  setting => setting.key
)
