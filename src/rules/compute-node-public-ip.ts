import { readPath } from "../arm/resource.js";
import { describe, fail, isManagedCompute, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const PATH = "properties.properties.enableNodePublicIp";

export const computeNodePublicIp: Rule = {
  id: "compute-node-public-ip",
  title: "Compute nodes have public IP addresses",
  severity: "high",
  appliesTo: ["compute"],
  rationale:
    "Nodes with public IPs are addressable from the internet and egress directly, bypassing the VNet's controls.",
  remediation: {
    prose: "Recreate the compute with enableNodePublicIp false inside a VNet subnet or a managed network (the setting is create-only).",
    az: "az ml compute create --name <compute> --type <AmlCompute|ComputeInstance> --size <vm size> --resource-group <rg> --workspace-name <workspace> --enable-node-public-ip false --vnet-name <vnet> --subnet <subnet id>",
    bicep: "properties: { computeType: '<AmlCompute|ComputeInstance>', properties: { enableNodePublicIp: false, subnet: { id: subnet.id } } } (at create)",
  },
  fix: "contain-compute",
  categories: ["internet-exposed"],
  compliance: { azurePolicy: [], mcsb: ["NS-2"], cis: [] },
  references: ["https://learn.microsoft.com/azure/machine-learning/how-to-secure-training-vnet"],
  evaluate(resource) {
    if (!isManagedCompute(resource)) return NOT_APPLICABLE;
    const value = readPath(resource, PATH);
    if (value === false) return PASS;
    return fail(`enableNodePublicIp is ${describe(value, "true")}`, { [PATH]: value });
  },
};
