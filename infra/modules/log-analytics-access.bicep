// amlguard on one Log Analytics workspace (possibly in another resource group or subscription), nothing wider:
// - Log Analytics Reader: the failed-authentication spike query;
// - the narrow custom role of log-analytics-target-role.bicep (workspaces/read, workspaces/sharedKeys/action): the
//   traffic-log fix creates diagnostic settings that send to this workspace, which needs both on the workspace (Azure
//   Monitor "Manage access to Log Analytics workspaces", custom role example "configure their resources to send logs
//   to the Log Analytics workspace"). Log Analytics Reader has no sharedKeys action; Log Analytics Contributor would
//   grant far more.
targetScope = 'resourceGroup'

param workspaceName string
param principalId string
param targetRoleId string

var logAnalyticsReader = '73c42c96-874c-492b-b04d-ab87d138a893'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, logAnalyticsReader)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource diagnosticTarget 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, targetRoleId)
  scope: workspace
  properties: {
    roleDefinitionId: targetRoleId
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
