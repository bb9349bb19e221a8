import { readPath } from "../arm/resource.js";
import { fail, isEmptyValue, isManagedCompute, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const PATH = "properties.properties.idleTimeBeforeShutdown";

export const computeInstanceIdleShutdown: Rule = {
  id: "compute-instance-idle-shutdown",
  title: "Compute instance never shuts down when idle",
  severity: "low",
  appliesTo: ["compute"],
  rationale:
    "An instance that runs unattended keeps its identity, mounted data and open sessions available around the clock (and costs money).",
  remediation: {
    prose: "Set idleTimeBeforeShutdown (for example PT60M) on the compute instance.",
    az: "az ml compute create --name <compute instance> --resource-group <rg> --workspace-name <workspace> --file <compute-instance.yml with idle_time_before_shutdown_minutes: 60>",
    bicep: "properties: { computeType: 'ComputeInstance', properties: { idleTimeBeforeShutdown: 'PT60M' } }",
  },
  categories: ["hygiene"],
  compliance: { azurePolicy: ["679ddf89-ab8f-48a5-9029-e76054077449"], mcsb: [], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-create-compute-instance#configure-idle-shutdown",
    "Azure Policy 679ddf89-ab8f-48a5-9029-e76054077449: Azure Machine Learning Compute Instance should have idle shutdown.",
  ],
  evaluate(resource) {
    if (!isManagedCompute(resource, ["ComputeInstance"])) return NOT_APPLICABLE;
    const value = readPath(resource, PATH);
    // As the built-in: absent or empty() fails (an ISO 8601 duration such as PT60M passes).
    if (!isEmptyValue(value)) return PASS;
    return fail("idleTimeBeforeShutdown is not set", { [PATH]: value });
  },
};
