/** Raw ARM JSON as the REST API returns it; never an SDK model, so nothing is dropped. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Only id and type are guaranteed; everything else is read with readPath and checked where used. */
export interface ArmResource {
  [key: string]: JsonValue;
  id: string;
  type: string;
}

export const ML_PROVIDER = "Microsoft.MachineLearningServices";

/** The resource kinds amlguard evaluates, with their ARM types. */
export const ML_RESOURCE_TYPES = {
  workspace: `${ML_PROVIDER}/workspaces`,
  compute: `${ML_PROVIDER}/workspaces/computes`,
  onlineEndpoint: `${ML_PROVIDER}/workspaces/onlineEndpoints`,
  onlineDeployment: `${ML_PROVIDER}/workspaces/onlineEndpoints/deployments`,
  registry: `${ML_PROVIDER}/registries`,
} as const;

export type MlResourceKind = keyof typeof ML_RESOURCE_TYPES;

const kindByLowerType = new Map<string, MlResourceKind>(
  Object.entries(ML_RESOURCE_TYPES).map(([kind, type]) => [type.toLowerCase(), kind as MlResourceKind]),
);

/** ARM and Resource Graph disagree on the casing of types (Resource Graph lowercases them). */
export function kindOfType(type: string): MlResourceKind | undefined {
  return kindByLowerType.get(type.toLowerCase());
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a dotted path ("properties.managedNetwork.isolationMode") from raw JSON. */
export function readPath(value: unknown, path: string): JsonValue | undefined {
  let current: unknown = value;
  for (const key of path.split(".")) {
    if (!isJsonObject(current)) return undefined;
    current = current[key];
  }
  return current as JsonValue | undefined;
}

/** Enum values come back in any casing ("Disabled", "disabled"); compare them case-insensitively. */
export function enumEquals(value: unknown, expected: string): boolean {
  return typeof value === "string" && value.toLowerCase() === expected.toLowerCase();
}

/** Checks the minimum shape of an ARM resource: an id and a type, both strings. */
export function isArmResource(value: unknown): value is ArmResource {
  return isJsonObject(value) && typeof value.id === "string" && typeof value.type === "string";
}
