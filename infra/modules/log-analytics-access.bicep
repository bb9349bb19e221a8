// amlguard on one Log Analytics workspace (possibly in another resource group or subscription), nothing wider:
// - Log Analytics Reader: the failed-authentication spike query;
// - a narrow custom role with workspaces/read and workspaces/sharedKeys/action: the traffic-log fix creates diagnostic
//   settings that send to this workspace, which needs both on the workspace (Azure Monitor "Manage access to Log
//   Analytics workspaces", custom role example "configure their resources to send logs"). Log Analytics Reader has
//   no sharedKeys action, and Log Analytics Contributor would grant far more.
targetScope = 'resourceGroup'

param workspaceName string
param principalId string
param environmentName string

var logAnalyticsReader = '73c42c96-874c-492b-b04d-ab87d138a893'
var targetRole = loadJsonContent('../log-analytics-target-role.json')

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

// A custom role cannot list a single resource as assignable scope: it is assignable in this resource group and
// assigned on the workspace alone.
resource diagnosticTargetRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'amlguard-log-analytics-target', environmentName)
  properties: {
    roleName: 'amlguard diagnostic-settings target (${environmentName}, ${workspaceName})'
    description: targetRole.description
    type: 'customRole'
    permissions: [
      {
        actions: targetRole.actions
        notActions: []
      }
    ]
    assignableScopes: [resourceGroup().id]
  }
}

resource diagnosticTarget 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, diagnosticTargetRole.id)
  scope: workspace
  properties: {
    roleDefinitionId: diagnosticTargetRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
