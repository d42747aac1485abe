// Triage Relay: everything one deployment needs, in one resource group.
// Deploy with `npm run deploy` (infra/deploy.sh); see infra/README.md.

targetScope = 'resourceGroup'

@description('Short name shared by every resource: 2-12 lowercase letters and digits, starting with a letter.')
@minLength(2)
@maxLength(12)
param namePrefix string

@description('Region for everything except the bot registration, which is global. Must offer Flex Consumption.')
param location string = resourceGroup().location

@description('Node.js major version for the Functions runtime.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on Flex Consumption instances (cost ceiling).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the HTTP group: 1 keeps Slack\'s 3 s acknowledgement deadline out of cold starts.')
@minValue(0)
param alwaysReadyHttpInstances int = 1

@description('Where people reach the app (link pages). Empty: https://<function app host>.')
param publicBaseUrl string = ''

@description('Slack app client id. Empty: Slack is not wired (no Slack secrets are referenced).')
param slackClientId string = ''

@description('Discord application id. Empty: Discord is not wired (no Discord secrets are referenced).')
param discordApplicationId string = ''

@description('Comma-separated Discord guild ids the app serves, or * for any guild that adds the bot. Required with discordApplicationId.')
param discordAllowedGuilds string = ''

@description('OpenID Connect issuer for explicit identity linking. Empty: explicit linking is off.')
param oidcIssuer string = ''

@description('OpenID Connect client id for explicit identity linking.')
param oidcClientId string = ''

@description('Monitoring webhooks in (POST /api/ingest/{source}): INGEST_TOKENS from Key Vault (infra/deploy.sh generates one when none is given). On when INGEST_TOKENS is in deploy.sh\'s environment.')
param ingestEnabled bool = false

@description('Sentry webhooks in (POST /api/ingest/sentry): SENTRY_CLIENT_SECRET from Key Vault.')
param sentryEnabled bool = false

@description('Comma-separated Entra tenant ids allowed to talk to the bot. Empty: the bot\'s own tenant only.')
param teamsAllowedTenants string = ''

@description('App settings the template has no parameter for, as text (README, "Deploy to Azure"). Sealed: a secret or a setting the template sets itself is refused.')
@sealed()
type extraAppSettingsType = {
  @description('Comma-separated Slack team (or Enterprise Grid org) ids the app serves. Empty: any workspace that installs it.')
  SLACK_ALLOWED_TEAMS: string?
  @description('The slash command, default /triage.')
  SLACK_COMMAND: string?
  @description('Comma-separated host names the bot may send its token to. Default: Microsoft\'s Teams hosts.')
  TEAMS_SERVICE_URL_HOSTS: string?
  @description('\'false\' turns off linking chat users by their verified email.')
  IDENTITY_AUTO_LINK: string?
  @description('Hours after which a repeat alert posts a new card, default 24.')
  RENOTIFY_HOURS: string?
  @description('Card-refresh coalescing window in seconds, default 5.')
  CARD_REFRESH_COALESCE_SECONDS: string?
  @description('\'false\' keeps regression thread lines out of the Slack channel.')
  THREAD_BROADCAST_REGRESSIONS: string?
  @description('Override of Bot Framework\'s OpenID metadata URL.')
  BOT_OPENID_METADATA_URL: string?
  @description('Override of https://slack.com/api/.')
  SLACK_API_URL: string?
  @description('Override of https://discord.com/api/v10.')
  DISCORD_API_URL: string?
}

@description('Settings without a parameter of their own. App settings are replaced as a whole on every deployment: set them here (the parameters file keeps them), not in the portal.')
param extraAppSettings extraAppSettingsType = {}

@description('Display name of the bot registration.')
param botDisplayName string = 'Triage Relay'

@description('Key Vault purge protection. Once enabled it cannot be turned off, and the vault name stays reserved for the retention period after deletion.')
param keyVaultPurgeProtection bool = true

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionDays int = 90

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Principal granted Key Vault Secrets Officer so the deploy script can write secrets. Empty: nobody.')
param secretsOfficerPrincipalId string = deployer().objectId

@description('Principals (object ids) of alert producers: granted Storage Queue Data Message Sender on the alerts queue.')
param alertProducerPrincipalIds string[] = []

@description('Tags for every resource.')
param tags object = {}

var suffix = take(uniqueString(resourceGroup().id, namePrefix), 8)
var allTags = union(tags, { application: 'triage-relay' })

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${namePrefix}-${suffix}'
  location: location
  tags: allTags
}

// Nested deployments are named after this one (triage-relay-<prefix>): fixed names would be shared by every
// deployment in the resource group, so two prefixes would overwrite each other's and concurrent runs collide.
module monitoring 'modules/monitoring.bicep' = {
  name: '${deployment().name}-monitoring'
  params: {
    workspaceName: 'log-${namePrefix}-${suffix}'
    appInsightsName: 'appi-${namePrefix}-${suffix}'
    location: location
    retentionInDays: logRetentionDays
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: '${deployment().name}-storage'
  params: {
    name: 'st${namePrefix}${suffix}'
    location: location
    tags: allTags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: '${deployment().name}-keyvault'
  params: {
    name: 'kv-${namePrefix}-${suffix}'
    location: location
    purgeProtection: keyVaultPurgeProtection
    softDeleteRetentionDays: keyVaultSoftDeleteRetentionDays
    tags: allTags
  }
}

module roles 'modules/roles.bicep' = {
  name: '${deployment().name}-roles'
  params: {
    appPrincipalId: identity.properties.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    secretsOfficerPrincipalId: secretsOfficerPrincipalId
    alertProducerPrincipalIds: alertProducerPrincipalIds
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: '${deployment().name}-functionapp'
  // The host reaches storage and Key Vault with the identity from its first start.
  dependsOn: [
    roles
  ]
  params: {
    planName: 'plan-${namePrefix}-${suffix}'
    appName: 'func-${namePrefix}-${suffix}'
    location: location
    tags: allTags
    identityId: identity.id
    identityClientId: identity.properties.clientId
    identityTenantId: identity.properties.tenantId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    keyVaultUri: keyVault.outputs.uri
    appInsightsConnectionString: monitoring.outputs.connectionString
    nodeVersion: nodeVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    publicBaseUrl: publicBaseUrl
    slackClientId: slackClientId
    discordApplicationId: discordApplicationId
    discordAllowedGuilds: discordAllowedGuilds
    oidcIssuer: oidcIssuer
    oidcClientId: oidcClientId
    teamsAllowedTenants: teamsAllowedTenants
    ingestEnabled: ingestEnabled
    sentryEnabled: sentryEnabled
    extraAppSettings: extraAppSettings
  }
}

module bot 'modules/bot.bicep' = {
  name: '${deployment().name}-bot'
  params: {
    name: 'bot-${namePrefix}-${suffix}'
    displayName: botDisplayName
    messagingEndpoint: 'https://${functionApp.outputs.hostName}/api/messages'
    identityId: identity.id
    identityClientId: identity.properties.clientId
    identityTenantId: identity.properties.tenantId
    tags: allTags
  }
}

output appUrl string = functionApp.outputs.publicBaseUrl
output appHostName string = functionApp.outputs.hostName
output functionAppName string = functionApp.outputs.name
output functionAppId string = functionApp.outputs.id
output botName string = bot.outputs.name
output botAppId string = identity.properties.clientId
output identityClientId string = identity.properties.clientId
output identityPrincipalId string = identity.properties.principalId
output tenantId string = identity.properties.tenantId
output storageAccountName string = storage.outputs.name
output alertsQueueUrl string = '${storage.outputs.queueEndpoint}alerts'
@description('Scope for granting producers Storage Queue Data Message Sender.')
output alertsQueueResourceId string = '${storage.outputs.id}/queueServices/default/queues/alerts'
output issueEventsQueueUrl string = '${storage.outputs.queueEndpoint}issue-events'
@description('POST {ingestUrl}/{alertmanager|grafana|azure-monitor|sentry|alerts}. Empty: ingest is off.')
output ingestUrl string = ingestEnabled ? '${functionApp.outputs.publicBaseUrl}/api/ingest' : ''
output keyVaultName string = keyVault.outputs.name
@description('App settings read from Key Vault; each secret is named after its setting in kebab case.')
output keyVaultSecretSettings string[] = functionApp.outputs.keyVaultSecretSettings
