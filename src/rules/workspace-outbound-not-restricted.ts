import { enumEquals, readPath } from "../arm/resource.js";
import { describe, fail, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const ISOLATION = "properties.managedNetwork.isolationMode";

/**
 * Outbound isolation, as Azure Policy 6ddb1705 judges it when assigned with isolationMode AllowOnlyApprovedOutbound
 * (its parameter defaults to "Disabled" despite its title; amlguard mirrors the assignment its title describes).
 */
export const workspaceOutboundNotRestricted: Rule = {
  id: "workspace-outbound-not-restricted",
  title: "Workspace managed network allows more than approved outbound traffic",
  severity: "medium",
  appliesTo: ["workspace"],
  categories: ["internet-exposed"],
  rationale:
    "Unless the managed network allows only approved outbound traffic, computes, endpoints and jobs can send data to " +
    "any internet destination (AllowInternetOutbound) or egress without the managed network at all (Disabled).",
  remediation: {
    prose: "Set the workspace's managed network to AllowOnlyApprovedOutbound and add outbound rules for what jobs need.",
    az: "az ml workspace update --name <workspace> --resource-group <rg> --managed-network allow_only_approved_outbound",
    bicep: "properties: { managedNetwork: { isolationMode: 'AllowOnlyApprovedOutbound' } }",
  },
  compliance: { azurePolicy: ["6ddb1705-c8cf-450e-aa4b-19ad6703c440"], mcsb: ["NS-2"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-managed-network",
    "Azure Policy 6ddb1705-c8cf-450e-aa4b-19ad6703c440: Azure Machine Learning and Ai Studio should use Allow Only Approved Outbound Managed Vnet mode",
  ],
  evaluate(resource) {
    // Deliberate difference from the built-in: a hub-based Project uses its hub's managed network; the hub is evaluated.
    if (enumEquals(resource.kind, "Project")) return NOT_APPLICABLE;
    const mode = readPath(resource, ISOLATION);
    if (enumEquals(mode, "AllowOnlyApprovedOutbound")) return PASS;
    return fail(`managedNetwork.isolationMode is ${describe(mode, "Disabled")}`, { [ISOLATION]: mode });
  },
};
