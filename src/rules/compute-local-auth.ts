import { readPath } from "../arm/resource.js";
import { describe, fail, isBooleanValue, isManagedCompute, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const PATH = "properties.disableLocalAuth";

export const computeLocalAuth: Rule = {
  id: "compute-local-auth",
  title: "Compute accepts local authentication",
  severity: "medium",
  appliesTo: ["compute"],
  rationale:
    "Local (key/password) authentication bypasses Microsoft Entra ID, so access is neither conditional nor attributable.",
  remediation: {
    prose: "Recreate the compute with disableLocalAuth true (create-only) and grant access through Entra ID roles.",
    // az ml compute create has no flag for it (nor its YAML schema): the ARM create carries it.
    az: "az rest --method put --url 'https://management.azure.com<new compute id>?api-version=2025-09-01' --body @<compute.json with properties.disableLocalAuth true>",
    bicep: "properties: { computeType: '<AmlCompute|ComputeInstance>', disableLocalAuth: true } (at create)",
  },
  categories: ["authentication"],
  compliance: { azurePolicy: ["e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f"], mcsb: ["IM-1"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-integrate-azure-policy",
    "Azure Policy e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f: Azure Machine Learning Computes should have local authentication methods disabled",
  ],
  evaluate(resource) {
    if (!isManagedCompute(resource)) return NOT_APPLICABLE;
    const value = readPath(resource, PATH);
    // true, or "true" in any casing as some exports carry it (Azure Policy compares both the same way).
    if (isBooleanValue(value, true)) return PASS;
    return fail(`disableLocalAuth is ${describe(value, "false")}`, { [PATH]: value });
  },
};
