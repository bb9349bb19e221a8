// One watched subscription: amlguard's custom role, defined there and assignable there only, assigned to its identity.
// Least privilege: exactly the ARM actions the code uses (infra/amlguard-role.json = src/permissions.ts; tested).
targetScope = 'subscription'

param environmentName string
param principalId string

var role = loadJsonContent('../amlguard-role.json')

resource remediatorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, 'amlguard-remediator', environmentName)
  properties: {
    // Role names are unique per tenant: the environment and subscription keep one per watched subscription.
    roleName: 'amlguard remediator (${environmentName}, ${subscription().subscriptionId})'
    description: role.description
    type: 'customRole'
    permissions: [
      {
        actions: role.actions
        notActions: []
      }
    ]
    assignableScopes: [subscription().id]
  }
}

resource remediatorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, remediatorRole.id, principalId)
  properties: {
    roleDefinitionId: remediatorRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
