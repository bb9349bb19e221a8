import { isJsonObject, readPath, type JsonObject, type MlResourceKind } from "../arm/resource.js";

/**
 * How each Microsoft.MachineLearningServices type behaves on write, from the REST spec (2025-09-01,
 * azure-rest-api-specs specification/machinelearningservices/.../stable/2025-09-01; see docs/arm-spec-notes.md).
 */
export interface TypeBehaviour {
  /** Property paths the service sets; values in a request body are ignored (ARM RPC: read-only properties). */
  readOnly: readonly string[];
  /** Property paths that can be set at creation only (x-ms-mutability ["create","read"]). */
  createOnly: readonly string[];
  /** Validates a PATCH body against the API's update schema; returns the reason it is refused. */
  checkPatch(body: JsonObject, existing: JsonObject): string | undefined;
}

function onlyKeys(value: unknown, allowed: readonly string[], where: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isJsonObject(value)) return `${where} must be an object`;
  const extra = Object.keys(value).filter((key) => !allowed.includes(key));
  return extra.length ? `${where} does not accept ${extra.map((k) => `'${k}'`).join(", ")}` : undefined;
}

// WorkspaceUpdateParameters / WorkspacePropertiesUpdateParameters.
const WORKSPACE_PATCH_PROPERTIES = [
  "allowRoleAssignmentOnRG",
  "applicationInsights",
  "containerRegistry",
  "description",
  "enableDataIsolation",
  "enableSoftwareBillOfMaterials",
  "encryption",
  "featureStoreSettings",
  "friendlyName",
  "imageBuildCompute",
  "ipAllowlist",
  "managedNetwork",
  "networkAcls",
  "primaryUserAssignedIdentity",
  "publicNetworkAccess",
  "serverlessComputeSettings",
  "serviceManagedResourcesSettings",
  "softDeleteRetentionInDays",
  "systemDatastoresAuthMode",
  "v1LegacyMode",
];

export const TYPE_BEHAVIOUR: Record<MlResourceKind, TypeBehaviour> = {
  workspace: {
    readOnly: [
      "properties.provisioningState",
      "properties.workspaceId",
      "properties.serviceProvisionedResourceGroup",
      "properties.privateLinkCount",
      "properties.privateEndpointConnections",
      "properties.notebookInfo",
      "properties.tenantId",
      "properties.storageHnsEnabled",
      "properties.mlFlowTrackingUri",
      "properties.discoveryUrl",
    ],
    createOnly: ["kind", "properties.storageAccount", "properties.keyVault", "properties.hbiWorkspace"],
    checkPatch: (body) =>
      onlyKeys(body, ["identity", "sku", "tags", "properties"], "WorkspaceUpdateParameters") ??
      onlyKeys(body.properties, WORKSPACE_PATCH_PROPERTIES, "WorkspaceUpdateParameters.properties"),
  },
  compute: {
    readOnly: [
      "properties.provisioningState",
      "properties.createdOn",
      "properties.modifiedOn",
      "properties.provisioningErrors",
      "properties.isAttachedCompute",
      "properties.properties.state",
      "properties.properties.allocationState",
      "properties.properties.currentNodeCount",
      "properties.properties.targetNodeCount",
      "properties.properties.nodeStateCounts",
      "properties.properties.connectivityEndpoints",
      "properties.properties.lastOperation",
      "properties.properties.osImageMetadata",
    ],
    createOnly: [
      "properties.computeType",
      "properties.computeLocation",
      "properties.disableLocalAuth",
      "properties.resourceId",
      "properties.properties.vmSize",
      "properties.properties.vmPriority",
      "properties.properties.subnet",
      "properties.properties.enableNodePublicIp",
      "properties.properties.remoteLoginPortPublicAccess",
      "properties.properties.sshSettings",
      "properties.properties.userAccountCredentials",
      "properties.properties.isolatedNetwork",
      "properties.properties.osType",
    ],
    // ClusterUpdateParameters: { properties: { properties: { scaleSettings } } }, AmlCompute only.
    checkPatch: (body, existing) => {
      const shape =
        onlyKeys(body, ["properties"], "ClusterUpdateParameters") ??
        onlyKeys(body.properties, ["properties"], "ClusterUpdateProperties") ??
        onlyKeys(readPath(body, "properties.properties"), ["scaleSettings"], "ScaleSettingsInformation");
      if (shape) return shape;
      const type = readPath(existing, "properties.computeType");
      if (typeof type !== "string" || type.toLowerCase() !== "amlcompute") {
        return `Update is supported for AmlCompute only; this compute is ${String(type)}`;
      }
      return undefined;
    },
  },
  onlineEndpoint: {
    readOnly: ["properties.provisioningState", "properties.scoringUri", "properties.swaggerUri"],
    createOnly: ["kind", "properties.compute"],
    // PartialMinimalTrackedResourceWithIdentity: tags and identity only.
    checkPatch: (body) => onlyKeys(body, ["tags", "identity"], "PartialMinimalTrackedResourceWithIdentity"),
  },
  onlineDeployment: {
    readOnly: ["properties.provisioningState"],
    createOnly: ["kind", "properties.endpointComputeType", "properties.egressPublicNetworkAccess"],
    // PartialMinimalTrackedResourceWithSku: tags and sku only.
    checkPatch: (body) => onlyKeys(body, ["tags", "sku"], "PartialMinimalTrackedResourceWithSku"),
  },
  registry: {
    readOnly: ["properties.discoveryUrl", "properties.mlFlowRegistryUri", "properties.registryPrivateEndpointConnections"],
    createOnly: [],
    // PartialRegistryPartialTrackedResource: identity, kind, sku, tags.
    checkPatch: (body) => onlyKeys(body, ["identity", "kind", "sku", "tags"], "PartialRegistryPartialTrackedResource"),
  },
};
