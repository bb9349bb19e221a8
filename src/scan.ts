import { ML_PROVIDER, kindOfType, type ArmResource, type MlResourceKind } from "./arm/resource.js";
import type { ArmClient } from "./azure/arm-client.js";
import type { GraphClient, GraphScope } from "./azure/graph-client.js";
import { chunk, mapLimit } from "./concurrency.js";
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

/**
 * Where the scan's computes came from, and why. Resource Graph's `resources` table may not index
 * `microsoft.machinelearningservices/workspaces/computes` (its table reference lists ML workspaces, registries,
 * online endpoints and deployments only), so a Resource Graph scan checks its computes against ARM.
 */
export interface ComputeSource {
  via: "graph" | "arm-fallback" | "arm";
  reason: string;
}

/** Where the estate comes from: pages of raw ARM JSON, and the parts it could not read. */
export interface EstateSource {
  readonly via: "graph" | "arm";
  pages(progress: (detail: string) => void): AsyncGenerator<ArmResource[]>;
  readonly errors: ScanError[];
  /** Where the computes came from; final once pages() is exhausted. */
  readonly computeSource: ComputeSource;
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
  computeSource: ComputeSource;
}

const WORKSPACE_CONCURRENCY = 8;
/** Workspaces whose computes are listed through ARM on every Resource Graph scan, to check Graph's compute index. */
const COMPUTE_SAMPLE = 3;
/** Workspaces per page when computes are enumerated through ARM. */
const FALLBACK_PAGE = 100;

/**
 * Resource Graph: one paged query over the whole scope; rows carry properties, so nothing else is read, except that
 * Graph's computes are held back until they are checked against ARM for a sample of workspaces. On disagreement, or
 * no computes at all beside workspaces, every workspace's computes are listed through ARM instead.
 */
export function graphSource(graph: GraphClient, scope: GraphScope): EstateSource {
  const errors: ScanError[] = [];
  let computeSource: ComputeSource = { via: "graph", reason: "not checked: the scan did not finish" };
  return {
    via: "graph",
    errors,
    get computeSource() {
      return computeSource;
    },
    async *pages(progress) {
      const workspaces: string[] = [];
      const graphComputes: ArmResource[] = [];
      let page = 0;
      try {
        for await (const rows of graph.pages(scope)) {
          page += 1;
          progress(`Resource Graph page ${page}`);
          const others: ArmResource[] = [];
          for (const row of rows) {
            const kind = kindOfType(row.type);
            if (kind === "compute") graphComputes.push(row);
            else others.push(row);
            if (kind === "workspace") workspaces.push(row.id);
          }
          yield others;
        }
      } catch (error) {
        errors.push({ scope: "subscriptions" in scope ? scope.subscriptions.join(",") : scope.managementGroup, message: describeError(error) });
        computeSource = { via: "graph", reason: "not checked: the Resource Graph query failed" };
        yield graphComputes;
        return;
      }
      const check = await checkGraphComputes(graph.arm, workspaces, graphComputes, errors, progress);
      computeSource = check.source;
      if (check.source.via === "graph") {
        yield graphComputes;
        return;
      }
      let done = 0;
      for (const batch of chunk(workspaces, FALLBACK_PAGE)) {
        const lists = await mapLimit(batch, WORKSPACE_CONCURRENCY, async (id) => check.listed.get(id) ?? listComputes(graph.arm, id, errors));
        done += batch.length;
        progress(`computes through ARM: workspace ${done}/${workspaces.length}`);
        yield lists.flat();
      }
    },
  };
}

/**
 * Lists the computes of up to COMPUTE_SAMPLE workspaces (spread over the id-ordered list) through ARM and compares
 * them with Resource Graph's rows for the same workspaces.
 */
async function checkGraphComputes(
  arm: ArmClient,
  workspaces: readonly string[],
  graphComputes: readonly ArmResource[],
  errors: ScanError[],
  progress: (detail: string) => void,
): Promise<{ source: ComputeSource; listed: Map<string, ArmResource[]> }> {
  const listed = new Map<string, ArmResource[]>();
  if (workspaces.length === 0) return { source: { via: "graph", reason: "no workspaces in scope" }, listed };
  if (graphComputes.length === 0) {
    return { source: { via: "arm-fallback", reason: `Resource Graph returned no computes for ${workspaces.length} workspaces` }, listed };
  }
  const sample = [...new Set([0, Math.floor((workspaces.length - 1) / 2), workspaces.length - 1])].slice(0, COMPUTE_SAMPLE).map((i) => workspaces[i]!);
  progress(`checking Resource Graph's computes against ARM in ${sample.length} workspaces`);
  const errorsBefore = errors.length;
  for (const workspace of sample) {
    const viaArm = await listComputes(arm, workspace, errors);
    listed.set(workspace, viaArm);
    const prefix = `${workspace.toLowerCase()}/computes/`;
    const viaGraph = new Set(graphComputes.filter((c) => c.id.toLowerCase().startsWith(prefix)).map((c) => c.id.toLowerCase()));
    const sameIds = viaArm.length === viaGraph.size && viaArm.every((c) => viaGraph.has(c.id.toLowerCase()));
    if (errors.length === errorsBefore && !sameIds) {
      const name = workspace.split("/").pop();
      return { source: { via: "arm-fallback", reason: `Resource Graph and ARM disagree on workspace ${name}'s computes (${viaGraph.size} vs ${viaArm.length})` }, listed };
    }
  }
  if (errors.length > errorsBefore) return { source: { via: "graph", reason: "not verified: ARM could not list the sampled workspaces' computes" }, listed };
  return { source: { via: "graph", reason: `Resource Graph agrees with ARM on ${sample.length} sampled workspaces` }, listed };
}

function listComputes(arm: ArmClient, workspaceId: string, errors: ScanError[]): Promise<ArmResource[]> {
  return listAll(arm, `${workspaceId}/computes`, errors);
}

/** Every item of an ARM collection; a collection that cannot be read is recorded as an error and yields nothing. */
async function listAll(arm: ArmClient, path: string, errors: ScanError[]): Promise<ArmResource[]> {
  try {
    const items: ArmResource[] = [];
    for await (const item of arm.list(path)) items.push(item);
    return items;
  } catch (error) {
    errors.push({ scope: path, message: describeError(error) });
    return [];
  }
}

/** ARM enumeration, where Resource Graph is not allowed: workspaces and registries, then each workspace's children. */
export function armSource(arm: ArmClient, scopes: readonly ScanScope[]): EstateSource {
  const errors: ScanError[] = [];
  const collect = (path: string): Promise<ArmResource[]> => listAll(arm, path, errors);
  return {
    via: "arm",
    errors,
    computeSource: { via: "arm", reason: "ARM enumeration lists every workspace's computes" },
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
    get computeSource() {
      return source.computeSource;
    },
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
    computeSource: source.computeSource,
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
  result.computeSource = source.computeSource;
  return result;
}
