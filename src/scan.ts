import { ML_PROVIDER, kindOfType, type ArmResource, type MlResourceKind } from "./arm/resource.js";
import type { ArmClient } from "./azure/arm-client.js";
import type { GraphClient, GraphScope } from "./azure/graph-client.js";
import { mapLimit } from "./concurrency.js";
import { describeError } from "./errors.js";
import { evaluateRules, needsRelated, toFinding, type Finding, type ResourceEvaluation } from "./rules/index.js";

export interface ScanScope {
  subscriptionId: string;
  resourceGroup?: string;
}

export interface ScanProgress {
  resources: number;
  findings: number;
  /** What the source is doing: "page 3 of 61", "workspace 40/120". */
  detail: string;
}

export interface ScanError {
  scope: string;
  message: string;
}

/** Where the estate comes from: pages of raw ARM JSON, and the parts it could not read. */
export interface EstateSource {
  readonly via: "graph" | "arm";
  pages(progress: (detail: string) => void): AsyncGenerator<ArmResource[]>;
  readonly errors: ScanError[];
}

export interface ScanResult {
  via: "graph" | "arm";
  findings: Finding[];
  resourceCounts: Record<MlResourceKind, number>;
  /** Resources with at least one finding (what a sweep acts on), with their evaluation to pass along. */
  violating: ArmResource[];
  evaluations: Map<string, ResourceEvaluation>;
  /** Resources whose kind has rules that need related resources (diagnostic settings): the sweep reads those. */
  needingRelated: ArmResource[];
  errors: ScanError[];
}

const WORKSPACE_CONCURRENCY = 8;

/** Resource Graph: one paged query over the whole scope; rows carry properties, so nothing else is read. */
export function graphSource(graph: GraphClient, scope: GraphScope): EstateSource {
  const errors: ScanError[] = [];
  return {
    via: "graph",
    errors,
    async *pages(progress) {
      let page = 0;
      try {
        for await (const rows of graph.pages(scope)) {
          page += 1;
          progress(`Resource Graph page ${page}`);
          yield rows;
        }
      } catch (error) {
        errors.push({ scope: "subscriptions" in scope ? scope.subscriptions.join(",") : scope.managementGroup, message: describeError(error) });
      }
    },
  };
}

/** ARM enumeration, where Resource Graph is not allowed: workspaces and registries, then each workspace's children. */
export function armSource(arm: ArmClient, scopes: readonly ScanScope[]): EstateSource {
  const errors: ScanError[] = [];
  const collect = async (path: string): Promise<ArmResource[]> => {
    try {
      const items: ArmResource[] = [];
      for await (const item of arm.list(path)) items.push(item);
      return items;
    } catch (error) {
      errors.push({ scope: path, message: describeError(error) });
      return [];
    }
  };
  return {
    via: "arm",
    errors,
    async *pages(progress) {
      for (const scope of scopes) {
        const base = scope.resourceGroup
          ? `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}/providers/${ML_PROVIDER}`
          : `/subscriptions/${scope.subscriptionId}/providers/${ML_PROVIDER}`;
        const [workspaces, registries] = await Promise.all([collect(`${base}/workspaces`), collect(`${base}/registries`)]);
        yield [...workspaces, ...registries];
        let done = 0;
        const children = await mapLimit(workspaces, WORKSPACE_CONCURRENCY, async (workspace) => {
          const [computes, endpoints] = await Promise.all([collect(`${workspace.id}/computes`), collect(`${workspace.id}/onlineEndpoints`)]);
          const deployments = (await mapLimit(endpoints, 4, (endpoint) => collect(`${endpoint.id}/deployments`))).flat();
          progress(`workspace ${++done}/${workspaces.length} in ${scope.subscriptionId}`);
          return [...computes, ...endpoints, ...deployments];
        });
        yield children.flat();
      }
    },
  };
}

/** The same source, keeping only rows that pass (a resource group filter on a Resource Graph scan). */
export function filteredSource(source: EstateSource, keep: (resource: ArmResource) => boolean): EstateSource {
  return {
    via: source.via,
    errors: source.errors,
    async *pages(progress) {
      for await (const page of source.pages(progress)) yield page.filter(keep);
    },
  };
}

/** Evaluates every resource the source yields; keeps findings and the violating resources, not the whole estate. */
export async function scanEstate(source: EstateSource, onProgress?: (progress: ScanProgress) => void): Promise<ScanResult> {
  const result: ScanResult = {
    via: source.via,
    findings: [],
    resourceCounts: { workspace: 0, compute: 0, onlineEndpoint: 0, onlineDeployment: 0, registry: 0 },
    violating: [],
    evaluations: new Map(),
    needingRelated: [],
    errors: source.errors,
  };
  let resources = 0;
  let detail = "starting";
  const report = (): void => onProgress?.({ resources, findings: result.findings.length, detail });
  for await (const page of source.pages((d) => {
    detail = d;
    report();
  })) {
    for (const resource of page) {
      const kind = kindOfType(resource.type);
      if (!kind) continue;
      result.resourceCounts[kind] += 1;
      if (needsRelated(kind)) result.needingRelated.push(resource);
      resources += 1;
      const evaluation = evaluateRules(resource);
      if (evaluation?.violations.length) {
        result.findings.push(...evaluation.violations.map((violation) => toFinding(resource, violation)));
        result.violating.push(resource);
        result.evaluations.set(resource.id, evaluation);
      }
    }
    report();
  }
  return result;
}
