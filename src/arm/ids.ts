import { ML_PROVIDER, ML_RESOURCE_TYPES, type MlResourceKind } from "./resource.js";
import { GUID_PATTERN } from "../shared/types.js";

/** A parsed, validated ARM id of a resource amlguard evaluates. */
export interface MlResourceId {
  kind: MlResourceKind;
  subscriptionId: string;
  resourceGroup: string;
  /** Workspace or registry name. */
  parentName: string;
  /** Compute, endpoint names; deployment name last. */
  childNames: string[];
  /** Canonical id: provider and type segments in ARM's casing. */
  id: string;
}

export class ResourceIdError extends Error {
  override name = "ResourceIdError";
}

// ARM resource group names: letters, digits, underscores, hyphens, periods, parentheses; not ending in a period.
const RESOURCE_GROUP = /^[-\w.()]{1,90}$/;
// AML names are letters, digits, hyphens and underscores (workspaces, computes, endpoints, deployments, registries).
const ML_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const MAX_ID_LENGTH = 1024;

const CHILD_SHAPES: Record<string, { kind: MlResourceKind; childTypes: string[] }> = {
  workspaces: { kind: "workspace", childTypes: [] },
  "workspaces/computes": { kind: "compute", childTypes: ["computes"] },
  "workspaces/onlineendpoints": { kind: "onlineEndpoint", childTypes: ["onlineEndpoints"] },
  "workspaces/onlineendpoints/deployments": {
    kind: "onlineDeployment",
    childTypes: ["onlineEndpoints", "deployments"],
  },
  registries: { kind: "registry", childTypes: [] },
};

/**
 * Parses an ARM id strictly: exactly the segments of a supported Microsoft.MachineLearningServices type,
 * no percent-encoding, no dot segments, no query, no trailing extras. Anything else is a ResourceIdError.
 */
export function parseMlResourceId(input: string): MlResourceId {
  if (typeof input !== "string" || input.length === 0) throw new ResourceIdError("resource id is empty");
  if (input.length > MAX_ID_LENGTH) throw new ResourceIdError(`resource id is longer than ${MAX_ID_LENGTH} characters`);
  if (/[%?#\\\s]/.test(input)) throw new ResourceIdError("resource id contains encoded, query or whitespace characters");
  const segments = input.split("/");
  if (segments[0] !== "" || segments.some((s, i) => i > 0 && s === "")) {
    throw new ResourceIdError("resource id must start with '/' and contain no empty segments");
  }
  const [, subs, subscriptionId, rgs, resourceGroup, providers, provider, rootType, parentName, ...rest] = segments;
  if (subs?.toLowerCase() !== "subscriptions" || !subscriptionId || !GUID_PATTERN.test(subscriptionId)) {
    throw new ResourceIdError("resource id must start with /subscriptions/{subscription GUID}");
  }
  if (rgs?.toLowerCase() !== "resourcegroups" || !resourceGroup || !RESOURCE_GROUP.test(resourceGroup) || resourceGroup.endsWith(".")) {
    throw new ResourceIdError("resource id must name a valid resource group");
  }
  if (providers?.toLowerCase() !== "providers" || provider?.toLowerCase() !== ML_PROVIDER.toLowerCase()) {
    throw new ResourceIdError(`resource id must be a ${ML_PROVIDER} resource`);
  }
  if (!rootType || !parentName || !ML_NAME.test(parentName)) {
    throw new ResourceIdError("resource id must name a workspace or registry");
  }
  if (rest.length % 2 !== 0) throw new ResourceIdError("resource id has a type segment without a name");
  const childTypes: string[] = [];
  const childNames: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const type = rest[i]!;
    const name = rest[i + 1]!;
    if (!ML_NAME.test(name)) throw new ResourceIdError(`resource id has an invalid name '${name.slice(0, 64)}'`);
    childTypes.push(type);
    childNames.push(name);
  }
  const shapeKey = [rootType, ...childTypes].join("/").toLowerCase();
  const shape = CHILD_SHAPES[shapeKey];
  if (!shape) throw new ResourceIdError(`unsupported resource type '${ML_PROVIDER}/${[rootType, ...childTypes].join("/").slice(0, 120)}'`);
  const canonicalRoot = ML_RESOURCE_TYPES[shape.kind].split("/")[1]!;
  const canonicalSegments = shape.childTypes.flatMap((type, i) => [type, childNames[i]!]);
  const id = ["", "subscriptions", subscriptionId.toLowerCase(), "resourceGroups", resourceGroup, "providers", ML_PROVIDER, canonicalRoot, parentName, ...canonicalSegments].join("/");
  return { kind: shape.kind, subscriptionId: subscriptionId.toLowerCase(), resourceGroup, parentName, childNames, id };
}
