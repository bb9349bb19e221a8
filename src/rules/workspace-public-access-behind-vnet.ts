import { readPath } from "../arm/resource.js";
import { fail, isBooleanValue, PASS, type Rule } from "./rule.js";

const PATH = "properties.allowPublicAccessWhenBehindVnet";

export const workspacePublicAccessBehindVnet: Rule = {
  id: "workspace-public-access-behind-vnet",
  title: "Workspace behind a VNet still allows public access",
  severity: "high",
  appliesTo: ["workspace"],
  rationale:
    "allowPublicAccessWhenBehindVnet re-opens a private-link workspace to the internet, defeating its private endpoints.",
  remediation: {
    prose: "Set allowPublicAccessWhenBehindVnet to false (and publicNetworkAccess to Disabled).",
    // Not in the workspace PATCH body (WorkspacePropertiesUpdateParameters) nor an az ml flag: a read-modify-PUT sets it.
    az: "az resource update --ids <workspace id> --set properties.allowPublicAccessWhenBehindVnet=false",
    bicep: "properties: { allowPublicAccessWhenBehindVnet: false }",
  },
  categories: ["internet-exposed"],
  compliance: { azurePolicy: [], mcsb: ["NS-2"], cis: [] },
  references: ["https://learn.microsoft.com/azure/machine-learning/how-to-configure-private-link#enable-public-access"],
  evaluate(resource) {
    const value = readPath(resource, PATH);
    // The API takes a boolean; tolerate the string "true" some exports carry.
    if (isBooleanValue(value, true)) {
      return fail("allowPublicAccessWhenBehindVnet is true", { [PATH]: value });
    }
    return PASS;
  },
};
