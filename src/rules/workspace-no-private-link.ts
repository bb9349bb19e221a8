import { enumEquals, isJsonObject, readPath } from "../arm/resource.js";
import { fail, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const CONNECTIONS = "properties.privateEndpointConnections";
const STATUS = "properties.privateLinkServiceConnectionState.status";

/**
 * Inbound isolation, as Azure Policy 45e05259 ("should use private link") judges it: at least one private endpoint
 * connection whose state is Approved. Split from the old workspace-no-network-isolation (still accepted as an alias),
 * which also passed a managed network: that is outbound isolation, now workspace-outbound-not-restricted.
 */
export const workspaceNoPrivateLink: Rule = {
  id: "workspace-no-private-link",
  title: "Workspace has no approved private endpoint (inbound isolation)",
  severity: "medium",
  appliesTo: ["workspace"],
  categories: ["internet-exposed"],
  rationale:
    "Without an approved private endpoint the workspace can only be reached over its public endpoint, so clients " +
    "cannot be confined to a private network and public access cannot be turned off without cutting everyone off.",
  remediation: {
    prose: "Add a private endpoint (group id amlworkspace) from your VNet to the workspace and approve the connection; then disable public network access.",
    az: "az network private-endpoint create --name <private endpoint> --resource-group <rg> --vnet-name <vnet> --subnet <subnet> --private-connection-resource-id <workspace id> --group-id amlworkspace --connection-name <connection>",
    bicep: "resource pe 'Microsoft.Network/privateEndpoints@2024-05-01' = { name: '<private endpoint>', location: location, properties: { subnet: { id: subnet.id }, privateLinkServiceConnections: [ { name: '<connection>', properties: { privateLinkServiceId: workspace.id, groupIds: [ 'amlworkspace' ] } } ] } }",
  },
  compliance: { azurePolicy: ["45e05259-1eb5-4f70-9574-baf73e9d219b"], mcsb: ["NS-2"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-configure-private-link",
    "Azure Policy 45e05259-1eb5-4f70-9574-baf73e9d219b: Azure Machine Learning workspaces should use private link",
  ],
  evaluate(resource) {
    // Deliberate difference from the built-in: a hub-based Project has no private endpoint of its own; it is reached
    // through its hub's, and the hub is evaluated (the CMK built-in exempts kind Project for the same reason).
    if (enumEquals(resource.kind, "Project")) return NOT_APPLICABLE;
    const connections = readPath(resource, CONNECTIONS);
    const list = Array.isArray(connections) ? connections.filter(isJsonObject) : [];
    const approved = list.filter((c) => enumEquals(readPath(c, STATUS), "Approved")).length;
    if (approved > 0) return PASS;
    const states = list.map((c) => String(readPath(c, STATUS) ?? "no state")).join(", ");
    return fail(`no approved private endpoint connection (${list.length} ${list.length === 1 ? "connection" : "connections"}${states ? `: ${states}` : ""})`, {
      [`${CONNECTIONS}.count`]: list.length,
      [`${CONNECTIONS}.approved`]: approved,
    });
  },
};
