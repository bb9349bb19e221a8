import { expectEnum, type Rule } from "./rule.js";

const PATH = "properties.publicNetworkAccess";

export const endpointPublicNetworkAccess: Rule = {
  id: "endpoint-public-network-access",
  title: "Online endpoint accepts scoring requests from the public internet",
  severity: "high",
  appliesTo: ["onlineEndpoint"],
  rationale: "A public scoring endpoint can be called, probed and abused from anywhere; inference data leaves the private network.",
  remediation: {
    prose: "Set the endpoint's publicNetworkAccess to Disabled and score through the workspace private endpoint.",
    az: "az ml online-endpoint update --name <endpoint> --resource-group <rg> --workspace-name <workspace> --set public_network_access=disabled",
    bicep: "properties: { publicNetworkAccess: 'Disabled' }",
  },
  fix: "disable-public-network-access",
  categories: ["internet-exposed"],
  compliance: { azurePolicy: [], mcsb: ["NS-2"], cis: [] },
  references: ["https://learn.microsoft.com/azure/machine-learning/concept-secure-online-endpoint"],
  evaluate(resource) {
    return expectEnum(resource, PATH, "Disabled", "Enabled");
  },
};
