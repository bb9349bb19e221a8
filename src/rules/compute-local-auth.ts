import { readPath } from "../arm/resource.js";
import { describe, fail, isManagedCompute, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

const PATH = "properties.disableLocalAuth";

export const computeLocalAuth: Rule = {
  id: "compute-local-auth",
  title: "Compute accepts local authentication",
  severity: "medium",
  appliesTo: ["compute"],
  rationale:
    "Local (key/password) authentication bypasses Microsoft Entra ID, so access is neither conditional nor attributable.",
  remediation: { prose: "Recreate the compute with disableLocalAuth true (create-only) and grant access through Entra ID roles." },
  categories: ["authentication"],
  compliance: { azurePolicy: ["e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f"], mcsb: ["IM-1"], cis: [] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/how-to-integrate-azure-policy",
    "Azure Policy e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f: Azure Machine Learning Computes should have local authentication methods disabled",
  ],
  evaluate(resource) {
    if (!isManagedCompute(resource)) return NOT_APPLICABLE;
    const value = readPath(resource, PATH);
    if (value === true) return PASS;
    return fail(`disableLocalAuth is ${describe(value, "false")}`, { [PATH]: value });
  },
};
