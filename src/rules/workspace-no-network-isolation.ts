import { enumEquals, isJsonObject, readPath } from "../arm/resource.js";
import { describe, fail, PASS, type Rule } from "./rule.js";

const ISOLATION = "properties.managedNetwork.isolationMode";
const CONNECTIONS = "properties.privateEndpointConnections";

export const workspaceNoNetworkIsolation: Rule = {
  id: "workspace-no-network-isolation",
  title: "Workspace has neither a managed network nor an approved private endpoint",
  severity: "medium",
  appliesTo: ["workspace"],
  rationale:
    "Without managed network isolation or a private endpoint, the workspace and its computes talk over public networks " +
    "and cannot be reached privately; data exfiltration paths stay open.",
  remediation: { prose: "Enable a managed virtual network (isolationMode AllowOnlyApprovedOutbound or AllowInternetOutbound) " +
    "or connect the workspace to a VNet through an approved private endpoint." },
  categories: ["internet-exposed"],
  compliance: { azurePolicy: ["45e05259-1eb5-4f70-9574-baf73e9d219b"], mcsb: ["NS-2"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-managed-network",
    "Azure Policy 45e05259-1eb5-4f70-9574-baf73e9d219b: Azure Machine Learning workspaces should use private link",
  ],
  evaluate(resource) {
    const isolationMode = readPath(resource, ISOLATION);
    const managed = typeof isolationMode === "string" && !enumEquals(isolationMode, "Disabled");
    if (managed) return PASS;
    const connections = readPath(resource, CONNECTIONS);
    const approved = Array.isArray(connections)
      ? connections.filter((c) =>
          enumEquals(readPath(c, "properties.privateLinkServiceConnectionState.status"), "Approved"),
        ).length
      : 0;
    if (approved > 0) return PASS;
    const total = Array.isArray(connections) ? connections.filter(isJsonObject).length : 0;
    return fail(
      `managedNetwork.isolationMode is ${describe(isolationMode, "Disabled")} and ${total} private endpoint connection(s), none approved`,
      { [ISOLATION]: isolationMode, [`${CONNECTIONS}.approved`]: approved },
    );
  },
};
