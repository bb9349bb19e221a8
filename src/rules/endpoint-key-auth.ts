import { enumEquals, readPath } from "../arm/resource.js";
import { describe, fail, PASS, type Rule } from "./rule.js";

const PATH = "properties.authMode";

export const endpointKeyAuth: Rule = {
  id: "endpoint-key-auth",
  title: "Online endpoint uses static keys",
  severity: "medium",
  appliesTo: ["onlineEndpoint"],
  rationale:
    "Static endpoint keys never expire, are shared rather than attributable, and survive the departure of whoever copied them.",
  remediation: {
    prose: "Use authMode AADToken (Microsoft Entra tokens) or AMLToken; rotate and retire the keys.",
    az: "az ml online-endpoint create --name <endpoint> --resource-group <rg> --workspace-name <workspace> --file <endpoint.yml> --set auth_mode=aad_token",
    bicep: "properties: { authMode: 'AADToken' }",
  },
  categories: ["authentication"],
  compliance: { azurePolicy: [], mcsb: ["IM-1"], cis: [] },
  references: ["https://learn.microsoft.com/azure/machine-learning/how-to-authenticate-online-endpoint"],
  evaluate(resource) {
    const value = readPath(resource, PATH);
    // authMode is required by the API; the CLI and SDK default it to key, so an absent value is treated as Key.
    if (value !== undefined && value !== null && !enumEquals(value, "Key")) return PASS;
    return fail(`authMode is ${describe(value, "Key")}`, { [PATH]: value });
  },
};
