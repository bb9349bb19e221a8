import { expectEnum, type Rule } from "./rule.js";

const PATH = "properties.publicNetworkAccess";

export const workspacePublicNetworkAccess: Rule = {
  id: "workspace-public-network-access",
  title: "Workspace is reachable from the public internet",
  severity: "high",
  appliesTo: ["workspace"],
  rationale:
    "With public network access enabled, the workspace API, studio and its data can be reached from any network; " +
    "credentials are the only barrier. Regulated workloads keep the workspace behind private endpoints.",
  remediation: {
    prose: "Set publicNetworkAccess to Disabled and reach the workspace through private endpoints.",
    az: "az ml workspace update --name <workspace> --resource-group <rg> --public-network-access Disabled",
    bicep: "properties: { publicNetworkAccess: 'Disabled' }",
  },
  fix: "disable-public-network-access",
  categories: ["internet-exposed"],
  compliance: { azurePolicy: ["438c38d2-3772-465a-a9cc-7a6666a275ce"], mcsb: ["NS-2"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-configure-private-link",
    "Azure Policy 438c38d2-3772-465a-a9cc-7a6666a275ce: Azure Machine Learning Workspaces should disable public network access",
  ],
  evaluate(resource) {
    // Applies to every workspace kind: Default, Hub, Project, FeatureStore.
    return expectEnum(resource, PATH, "Disabled", "Enabled");
  },
};
