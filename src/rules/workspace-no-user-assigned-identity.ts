import { readPath } from "../arm/resource.js";
import { fail, PASS, type Rule } from "./rule.js";

const PATH = "properties.primaryUserAssignedIdentity";

export const workspaceNoUserAssignedIdentity: Rule = {
  id: "workspace-no-user-assigned-identity",
  title: "Workspace does not use a user-assigned managed identity",
  severity: "low",
  appliesTo: ["workspace"],
  categories: ["authentication"],
  rationale:
    "With only a system-assigned identity, the workspace's access to its storage, key vault and registry is granted " +
    "to an identity that lives and dies with the workspace; a user-assigned identity is managed, reviewed and scoped separately.",
  remediation: {
    prose: "Attach a user-assigned managed identity to the workspace and make it the primary identity (grant it the roles on the workspace's resources first).",
    az: "az ml workspace update --name <workspace> --resource-group <rg> --primary-user-assigned-identity <user-assigned identity id>",
    bicep: "identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { '${uai.id}': {} } }, properties: { primaryUserAssignedIdentity: uai.id }",
  },
  compliance: { azurePolicy: ["5f0c7d88-c7de-45b8-ac49-db49e72eaa78"], mcsb: ["IM-3"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-identity-based-service-authentication",
    "Azure Policy 5f0c7d88-c7de-45b8-ac49-db49e72eaa78: Azure Machine Learning workspaces should use user-assigned managed identity",
  ],
  evaluate(resource) {
    const value = readPath(resource, PATH);
    // As the built-in: absent (or null) or "" fails; any identity id passes.
    if (value !== undefined && value !== null && value !== "") return PASS;
    return fail(`primaryUserAssignedIdentity is ${value === "" ? '""' : "absent"}`, { [PATH]: value });
  },
};
