import { readPath } from "../arm/resource.js";
import { computeType, fail, isEmptyValue, isManagedCompute, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const SUBNET = "properties.properties.subnet.id";

export const computeNotInVnet: Rule = {
  id: "compute-not-in-vnet",
  title: "Compute is not in a virtual network subnet",
  severity: "medium",
  appliesTo: ["compute"],
  categories: ["internet-exposed"],
  rationale:
    "A compute outside your VNet cannot be reached privately or filtered by your NSGs and routes. Computes in a " +
    "workspace managed network have no subnet either, and are reported the same way the built-in reports them: exempt " +
    "them (amlguard-exempt tag) or set this rule's mode to off where the managed network is the design.",
  remediation: {
    prose: "Recreate the compute in a subnet of your VNet (the subnet is create-only), or move the workspace to a managed network.",
    az: "az ml compute create --name <compute> --type <AmlCompute|ComputeInstance> --size <vm size> --resource-group <rg> --workspace-name <workspace> --vnet-name <vnet> --subnet <subnet id>",
    bicep: "properties: { computeType: '<AmlCompute|ComputeInstance>', properties: { subnet: { id: subnet.id } } } (at create)",
  },
  compliance: { azurePolicy: ["7804b5c7-01dc-4723-969b-ae300cc07ff1"], mcsb: ["NS-2"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-secure-training-vnet",
    "Azure Policy 7804b5c7-01dc-4723-969b-ae300cc07ff1: Azure Machine Learning Computes should be in a virtual network",
  ],
  evaluate(resource) {
    if (!isManagedCompute(resource)) return NOT_APPLICABLE;
    const subnet = readPath(resource, SUBNET);
    if (!isEmptyValue(subnet)) return PASS;
    return fail(`${computeType(resource) ?? "compute"} has no subnet.id`, { [SUBNET]: subnet });
  },
};
