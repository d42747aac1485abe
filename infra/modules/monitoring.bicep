// Log Analytics workspace and workspace-based Application Insights.
// Local (instrumentation key) ingestion is off: the app sends telemetry with its managed identity.

param workspaceName string
param appInsightsName string
param location string
param retentionInDays int
param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

output appInsightsName string = appInsights.name
// The connection string carries no credential once local auth is disabled.
output connectionString string = appInsights.properties.ConnectionString
