import { enumEquals, readPath } from "../arm/resource.js";
import { describe, fail, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const PATH = "properties.encryption.status";

export const workspaceNoCustomerManagedKey: Rule = {
  id: "workspace-no-customer-managed-key",
  title: "Workspace data is not encrypted with a customer-managed key",
  severity: "low",
  appliesTo: ["workspace"],
  rationale:
    "Regulated teams must control, rotate and revoke the key protecting workspace metadata and data at rest; " +
    "Microsoft-managed keys do not allow that.",
  remediation: {
    prose: "Create the workspace with encryption.status Enabled and a Key Vault key (CMK can only be set at creation: recreate and migrate).",
    az: "az ml workspace create --name <workspace> --resource-group <rg> --file <workspace.yml with customer_managed_key: {key_vault: <key vault id>, key_uri: <key url>}>",
    bicep: "properties: { encryption: { status: 'Enabled', keyVaultProperties: { keyVaultArmId: keyVault.id, keyIdentifier: key.properties.keyUriWithVersion } } } (at create)",
  },
  categories: ["encryption"],
  compliance: { azurePolicy: ["ba769a63-b8cc-4b2d-abf6-ac33c7204be8"], mcsb: ["DP-5"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/concept-customer-managed-keys",
    "Azure Policy ba769a63-b8cc-4b2d-abf6-ac33c7204be8: Azure Machine Learning workspaces should be encrypted with a customer-managed key",
  ],
  evaluate(resource) {
    // A Project's data is encrypted by its hub's key (the built-in policy exempts kind Project likewise).
    if (enumEquals(resource.kind, "Project")) return NOT_APPLICABLE;
    const value = readPath(resource, PATH);
    if (enumEquals(value, "Enabled")) return PASS;
    return fail(`encryption.status is ${describe(value, "Disabled (Microsoft-managed keys)")}`, { [PATH]: value });
  },
};
