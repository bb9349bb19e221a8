import { ML_PROVIDER, kindOfType, type ArmResource, type MlResourceKind } from "./arm/resource.js";
import type { ArmClient } from "./azure/arm-client.js";
import { describeError } from "./errors.js";
import { mapLimit } from "./concurrency.js";
import { evaluateResource, type Finding } from "./rules/index.js";

export interface ScanScope {
  subscriptionId: string;
  resourceGroup?: string;
}

export interface ScanProgress {
  workspacesDone: number;
  workspacesTotal: number;
  resources: number;
  findings: number;
}

export interface ScanResult {
  findings: Finding[];
  resourceCounts: Record<MlResourceKind, number>;
  /** Parts of the estate that could not be read (permissions, throttling); reported, never silently skipped. */
  errors: Array<{ scope: string; message: string }>;
}

const WORKSPACE_CONCURRENCY = 8;

/** Enumerates workspaces, registries and their computes, endpoints and deployments through ARM, and evaluates them. */
export async function scanViaArm(arm: ArmClient, scope: ScanScope, onProgress?: (progress: ScanProgress) => void): Promise<ScanResult> {
  const base = scope.resourceGroup
    ? `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}/providers/${ML_PROVIDER}`
    : `/subscriptions/${scope.subscriptionId}/providers/${ML_PROVIDER}`;
  const result: ScanResult = {
    findings: [],
    resourceCounts: { workspace: 0, compute: 0, onlineEndpoint: 0, onlineDeployment: 0, registry: 0 },
    errors: [],
  };
  const progress: ScanProgress = { workspacesDone: 0, workspacesTotal: 0, resources: 0, findings: 0 };
  const record = (resource: ArmResource): void => {
    const kind = kindOfType(resource.type);
    if (!kind) return;
    result.resourceCounts[kind] += 1;
    const findings = evaluateResource(resource) ?? [];
    result.findings.push(...findings);
    progress.resources += 1;
    progress.findings += findings.length;
  };
  const collect = async (path: string, label: string): Promise<ArmResource[]> => {
    try {
      const items: ArmResource[] = [];
      for await (const item of arm.list(path)) items.push(item);
      return items;
    } catch (error) {
      result.errors.push({ scope: label, message: describeError(error) });
      return [];
    }
  };

  const [workspaces, registries] = await Promise.all([
    collect(`${base}/workspaces`, `${base}/workspaces`),
    collect(`${base}/registries`, `${base}/registries`),
  ]);
  workspaces.forEach(record);
  registries.forEach(record);
  progress.workspacesTotal = workspaces.length;
  onProgress?.({ ...progress });

  await mapLimit(workspaces, WORKSPACE_CONCURRENCY, async (workspace) => {
    const [computes, endpoints] = await Promise.all([
      collect(`${workspace.id}/computes`, workspace.id),
      collect(`${workspace.id}/onlineEndpoints`, workspace.id),
    ]);
    computes.forEach(record);
    endpoints.forEach(record);
    for (const endpoint of endpoints) (await collect(`${endpoint.id}/deployments`, endpoint.id)).forEach(record);
    progress.workspacesDone += 1;
    onProgress?.({ ...progress });
  });
  return result;
}

