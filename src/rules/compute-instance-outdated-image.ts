import { readPath } from "../arm/resource.js";
import { fail, isBooleanValue, isManagedCompute, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const PATH = "properties.properties.osImageMetadata.isLatestOsImageVersion";

export const computeInstanceOutdatedImage: Rule = {
  id: "compute-instance-outdated-image",
  title: "Compute instance runs an outdated OS image",
  severity: "medium",
  appliesTo: ["compute"],
  rationale: "Compute instances are not patched in place; an old image carries known vulnerabilities until it is recreated.",
  remediation: {
    prose: "Recreate the compute instance to get the latest image (keep data on workspace storage).",
    az: "az ml compute create --name <new compute instance> --type ComputeInstance --size <vm size> --resource-group <rg> --workspace-name <workspace>",
    bicep: "a new Microsoft.MachineLearningServices/workspaces/computes with computeType 'ComputeInstance': the image is chosen when it is created",
  },
  categories: ["hygiene"],
  compliance: { azurePolicy: ["f110a506-2dcb-422e-bcea-d533fc8c35e2"], mcsb: ["PV-2", "PV-6"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/concept-vulnerability-management",
    "Azure Policy f110a506-2dcb-422e-bcea-d533fc8c35e2: Azure Machine Learning compute instances should be recreated to get the latest software updates",
  ],
  evaluate(resource) {
    if (!isManagedCompute(resource, ["ComputeInstance"])) return NOT_APPLICABLE;
    const value = readPath(resource, PATH);
    // Only an explicit false is evidence; absent metadata says nothing about the image.
    if (isBooleanValue(value, false)) {
      const current = readPath(resource, "properties.properties.osImageMetadata.currentImageVersion");
      const latest = readPath(resource, "properties.properties.osImageMetadata.latestImageVersion");
      return fail(`OS image ${String(current ?? "?")} is not the latest (${String(latest ?? "?")})`, { [PATH]: value });
    }
    return PASS;
  },
};
