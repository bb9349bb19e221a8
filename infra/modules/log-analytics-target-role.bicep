// The narrow custom role for the traffic-log fix, defined in the Log Analytics workspace's subscription: exactly
// workspaces/read and workspaces/sharedKeys/action (infra/log-analytics-target-role.json = src/permissions.ts
// LOG_ANALYTICS_TARGET_ACTIONS; tested). A custom role cannot name a single resource as assignable scope, so it is
// assignable in the workspace's resource group and assigned on the workspace alone (log-analytics-access.bicep).
targetScope = 'subscription'

param workspaceResourceId string
param environmentName string

var targetRole = loadJsonContent('../log-analytics-target-role.json')
var workspaceGroup = '/subscriptions/${split(workspaceResourceId, '/')[2]}/resourceGroups/${split(workspaceResourceId, '/')[4]}'

resource diagnosticTargetRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(workspaceResourceId, 'amlguard-log-analytics-target', environmentName)
  properties: {
    // Role names are unique per tenant.
    roleName: 'amlguard diagnostic-settings target (${environmentName}, ${last(split(workspaceResourceId, '/'))})'
    description: targetRole.description
    type: 'customRole'
    permissions: [
      {
        actions: targetRole.actions
        notActions: []
      }
    ]
    assignableScopes: [workspaceGroup]
  }
}

output roleDefinitionId string = diagnosticTargetRole.id
