import { enumEquals, readPath } from "../arm/resource.js";
import { computeType, describe, fail, isManagedCompute, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const INSTANCE_SSH = "properties.properties.sshSettings.sshPublicAccess";
const CLUSTER_SSH = "properties.properties.remoteLoginPortPublicAccess";
const SUBNET = "properties.properties.subnet.id";

export const computePublicSsh: Rule = {
  id: "compute-public-ssh",
  title: "Compute SSH port is open to the internet",
  severity: "high",
  appliesTo: ["compute"],
  rationale: "A public SSH port exposes every node to credential stuffing and exploits from the internet.",
  remediation: {
    prose: "Recreate the compute instance with sshPublicAccess Disabled, or the cluster with remoteLoginPortPublicAccess Disabled (create-only).",
    az: "az ml compute create --name <compute> --type <AmlCompute|ComputeInstance> --size <vm size> --resource-group <rg> --workspace-name <workspace> --ssh-public-access-enabled false",
    bicep: "ComputeInstance: properties: { properties: { sshSettings: { sshPublicAccess: 'Disabled' } } }; AmlCompute: properties: { properties: { remoteLoginPortPublicAccess: 'Disabled' } } (at create)",
  },
  fix: "contain-compute",
  categories: ["internet-exposed"],
  compliance: { azurePolicy: [], mcsb: ["NS-2"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-create-attach-compute-cluster",
    "https://learn.microsoft.com/azure/machine-learning/how-to-create-compute-instance",
  ],
  evaluate(resource) {
    if (!isManagedCompute(resource)) return NOT_APPLICABLE;
    if (isManagedCompute(resource, ["ComputeInstance"])) {
      const value = readPath(resource, INSTANCE_SSH);
      // Documented default: Disabled.
      if (!enumEquals(value, "Enabled")) return PASS;
      return fail("sshSettings.sshPublicAccess is Enabled", { [INSTANCE_SSH]: value });
    }
    const value = readPath(resource, CLUSTER_SSH);
    const subnet = readPath(resource, SUBNET);
    if (enumEquals(value, "Enabled")) {
      return fail("remoteLoginPortPublicAccess is Enabled", { [CLUSTER_SSH]: value, [SUBNET]: subnet });
    }
    // NotSpecified (the default) opens the port on clusters without a subnet.
    const notSpecified = value === undefined || value === null || enumEquals(value, "NotSpecified");
    if (notSpecified && !(typeof subnet === "string" && subnet.length > 0)) {
      return fail(`remoteLoginPortPublicAccess is ${describe(value, "NotSpecified")} on a cluster (${computeType(resource)}) without a subnet`, {
        [CLUSTER_SSH]: value,
        [SUBNET]: subnet,
      });
    }
    return PASS;
  },
};
