import { expectEnum, type Rule } from "./rule.js";

const PATH = "properties.publicNetworkAccess";

export const registryPublicNetworkAccess: Rule = {
  id: "registry-public-network-access",
  title: "Registry is reachable from the public internet",
  severity: "high",
  appliesTo: ["registry"],
  rationale: "Registries hold models, environments and components shared across workspaces; public access exposes them all.",
  remediation: {
    prose: "Set the registry's publicNetworkAccess to Disabled and reach it through private endpoints.",
    az: "az resource update --ids <registry id> --set properties.publicNetworkAccess=Disabled",
    bicep: "properties: { publicNetworkAccess: 'Disabled' }",
  },
  fix: "disable-public-network-access",
  categories: ["internet-exposed"],
  compliance: { azurePolicy: [], mcsb: ["NS-2"], cis: [] },
  references: ["https://learn.microsoft.com/azure/machine-learning/how-to-registry-network-isolation"],
  evaluate(resource) {
    return expectEnum(resource, PATH, "Disabled", "Enabled");
  },
};
