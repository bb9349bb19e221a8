import { ML_RESOURCE_TYPES, type MlResourceKind } from "../../arm/resource.js";
import { armErrors } from "../arm-errors.js";

/**
 * Every stable api-version of Microsoft.MachineLearningServices: the `### Tag: package-…` sections with `stable/`
 * input files in azure-rest-api-specs
 * specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/MachineLearningServices/readme.md
 * (commit 1d1c10b11b23165742ce02e1f1b5c9d99b238ae9; docs/api-version.md). Previews are not served.
 */
export const STABLE_API_VERSIONS = [
  "2018-11-19", "2019-05-01", "2019-06-01", "2019-11-01", "2020-01-01", "2020-03-01", "2020-04-01", "2020-06-01",
  "2020-08-01", "2021-01-01", "2021-04-01", "2021-07-01", "2022-05-01", "2022-10-01", "2023-04-01", "2023-10-01",
  "2024-04-01", "2024-10-01", "2025-04-01", "2025-06-01", "2025-09-01", "2025-12-01", "2026-03-01", "2026-05-01",
  "2026-07-01",
] as const;

/**
 * The first stable version that has each type: online endpoints and deployments arrive with mfe.json in 2022-05-01,
 * registries with registries.json in 2023-04-01 (stable/2022-10-01 has no registries.json); workspaces and computes
 * are in every version.
 */
const FIRST_STABLE: Record<MlResourceKind, string> = {
  workspace: "2018-11-19",
  compute: "2018-11-19",
  onlineEndpoint: "2022-05-01",
  onlineDeployment: "2022-05-01",
  registry: "2023-04-01",
};

/** ARM's api-version format: a date, optionally with a suffix such as -preview. */
const API_VERSION_FORMAT = /^\d{4}-\d{2}-\d{2}(-[a-z]+)?$/i;

export function supportedApiVersions(kind: MlResourceKind): string[] {
  return STABLE_API_VERSIONS.filter((version) => version >= FIRST_STABLE[kind]);
}

/**
 * A version ARM cannot even parse is its own 400 InvalidApiVersionParameter ("The api-version '…' is invalid");
 * a well-formed version the provider did not register for the type is 400 NoRegisteredProviderFound, listing the
 * supported ones (as ARM answers for provider types, e.g. Azure/azure-cli#28496, pulumi/pulumi-azure-native#584).
 */
export function requireApiVersion(version: string, kind: MlResourceKind): void {
  const supported = supportedApiVersions(kind);
  if (!API_VERSION_FORMAT.test(version)) throw armErrors.invalidApiVersion(version, supported);
  if (!supported.includes(version)) throw armErrors.unsupportedApiVersion(version, ML_RESOURCE_TYPES[kind].split("/").slice(1).join("/"), supported);
}
