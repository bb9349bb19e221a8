import { expectEnum, type Rule } from "./rule.js";

const PATH = "properties.egressPublicNetworkAccess";

export const deploymentPublicEgress: Rule = {
  id: "deployment-public-egress",
  title: "Online deployment can reach the public internet",
  severity: "medium",
  appliesTo: ["onlineDeployment"],
  rationale: "A deployment with public egress can exfiltrate model inputs and pull unvetted code or packages at run time.",
  remediation: {
    prose: "Recreate the deployment with egressPublicNetworkAccess Disabled, or use a workspace managed network with approved outbound only.",
    az: "az ml online-deployment create --name <deployment> --endpoint-name <endpoint> --resource-group <rg> --workspace-name <workspace> --file <deployment.yml> --set egress_public_network_access=disabled",
    bicep: "properties: { egressPublicNetworkAccess: 'Disabled' } (at create)",
  },
  categories: ["internet-exposed"],
  compliance: { azurePolicy: [], mcsb: ["NS-2"], cis: [] },
  references: ["https://learn.microsoft.com/azure/machine-learning/concept-secure-online-endpoint"],
  evaluate(resource) {
    return expectEnum(resource, PATH, "Disabled", "Enabled");
  },
};
