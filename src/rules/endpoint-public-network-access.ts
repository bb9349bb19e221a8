import { expectEnum, type Rule } from "./rule.js";

const PATH = "properties.publicNetworkAccess";

export const endpointPublicNetworkAccess: Rule = {
  id: "endpoint-public-network-access",
  title: "Online endpoint accepts scoring requests from the public internet",
  severity: "high",
  appliesTo: ["onlineEndpoint"],
  rationale: "A public scoring endpoint can be called, probed and abused from anywhere; inference data leaves the private network.",
  remediation: "Set the endpoint's publicNetworkAccess to Disabled and score through the workspace private endpoint.",
  remediationAction: "put-disable-public-network-access",
  references: ["https://learn.microsoft.com/azure/machine-learning/concept-secure-online-endpoint"],
  evaluate(resource) {
    return expectEnum(resource, PATH, "Disabled", "Enabled");
  },
};
