import { enumEquals, readPath } from "../arm/resource.js";
import { describe, fail, PASS, type Rule } from "./rule.js";

const PATH = "properties.encryption.status";

export const workspaceNoCustomerManagedKey: Rule = {
  id: "workspace-no-customer-managed-key",
  title: "Workspace data is not encrypted with a customer-managed key",
  severity: "low",
  appliesTo: ["workspace"],
  rationale:
    "Regulated teams must control, rotate and revoke the key protecting workspace metadata and data at rest; " +
    "Microsoft-managed keys do not allow that.",
  remediation:
    "Create the workspace with encryption.status Enabled and a Key Vault key (CMK can only be set at creation: recreate and migrate).",
  remediationAction: "alert-only",
  references: [
    "https://learn.microsoft.com/azure/machine-learning/concept-customer-managed-keys",
    "Azure Policy: Azure Machine Learning workspaces should be encrypted with a customer-managed key",
  ],
  evaluate(resource) {
    const value = readPath(resource, PATH);
    if (enumEquals(value, "Enabled")) return PASS;
    return fail(`encryption.status is ${describe(value, "Disabled (Microsoft-managed keys)")}`, { [PATH]: value });
  },
};
