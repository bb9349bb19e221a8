import { gzipSync } from "node:zlib";
import type { TableClient } from "@azure/data-tables";
import type { Alert, AlertSink } from "../alerts/alert.js";
import type { LogsClient } from "../azure/logs-client.js";
import { statusOf } from "../state/tables.js";
import { DEFAULT_CHECKS, detectAll } from "./checks.js";
import type { Spike } from "./detect.js";
import { buildSpikeQuery } from "./query.js";

export interface SpikeDeps {
  logs: LogsClient;
  alerts: AlertSink;
  /** Remembers the end of the last window each workspace was checked up to (the timer; the CLI passes `since`). */
  checkpoints?: SpikeCheckpoints;
  workspaceId: string;
  /** The Log Analytics workspace's ARM id, for the portal deep link. */
  workspaceResourceId?: string;
  portal: string;
  now: () => Date;
}

export interface SpikeRun {
  windowStart: Date;
  windowEnd: Date;
  rows: number;
  spikes: Spike[];
  query: string;
}

const BUCKET_MS = DEFAULT_CHECKS.bucketHours * 3_600_000;
/** A timer that was down for longer than this catches up on this much only (the baseline covers the rest). */
const MAX_CATCH_UP_MS = 24 * 3_600_000;

/**
 * One detection run: the window is from the last checkpoint (so a late or missed timer run covers what it missed)
 * to the end of the last whole bucket; one query fetches the window and its baseline; every spike is alerted once
 * (the dedupe key is the spike's source, target and principal).
 */
export async function runSpikeDetection(deps: SpikeDeps, options: { since?: Date } = {}): Promise<SpikeRun> {
  const now = deps.now();
  const windowEnd = new Date(Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS);
  const checkpoint = options.since ? undefined : await deps.checkpoints?.get(deps.workspaceId);
  const fallback = new Date(windowEnd.getTime() - BUCKET_MS);
  const startCandidate = options.since ?? checkpoint ?? fallback;
  const windowStart = new Date(Math.min(fallback.getTime(), Math.max(startCandidate.getTime(), windowEnd.getTime() - MAX_CATCH_UP_MS)));
  const alignedStart = new Date(Math.floor(windowStart.getTime() / BUCKET_MS) * BUCKET_MS);
  const query = buildSpikeQuery({ lookbackDays: DEFAULT_CHECKS.lookbackDays, bucketHours: DEFAULT_CHECKS.bucketHours });
  const queryStart = new Date(alignedStart.getTime() - DEFAULT_CHECKS.lookbackDays * 86_400_000);
  const rows = await deps.logs.failureBuckets(deps.workspaceId, query, queryStart, windowEnd);
  const spikes = detectAll(rows, { ...DEFAULT_CHECKS, windowStart: alignedStart, windowEnd, historyStart: queryStart });
  const link = deepLink(deps, query);
  for (const spike of spikes) await deps.alerts.send(alertFor(spike, deps, link));
  if (!options.since) await deps.checkpoints?.set(deps.workspaceId, windowEnd);
  return { windowStart: alignedStart, windowEnd, rows: rows.length, spikes, query };
}

const WORDING: Record<Spike["kind"], { ruleId: string; title: string; rationale: string }> = {
  principal: { ruleId: "auth-spike", title: "Failed-authentication spike on", rationale: "Failed authentications far above their usual level for this hour point to brute force, password spraying or a leaked credential." },
  spray: { ruleId: "auth-spike-spray", title: "Password spray against", rationale: "Failed authentications far above their usual level for this hour point to brute force, password spraying or a leaked credential." },
  ramp: { ruleId: "auth-spike-ramp", title: "Failed authentications climbing day after day on", rationale: "Failures that rise every day for days, well past their level before the climb, point to a slow brute force or a credential being tried more and more widely." },
  persistent: { ruleId: "auth-spike-persistent", title: "New principal failing hour after hour on", rationale: "A principal that never failed before and now fails every hour, too few each hour to be a spike, points to a low-and-slow guess at one account or a leaked, revoked credential still in use." },
  campaign: { ruleId: "auth-spike-campaign", title: "Many principals failing at once on", rationale: "Far more distinct principals failing than on the busiest comparable hour or day of the week points to credential stuffing or a low-and-slow spray from many IPs." },
};

function alertFor(spike: Spike, deps: SpikeDeps, link: string): Alert {
  const who = spike.kind === "spray" ? `${spike.distinctPrincipals} principals from ${spike.ipAddress}` : spike.kind === "campaign" ? `${spike.distinctPrincipals} distinct principals` : `${spike.principal}${spike.ipAddress ? ` (from ${spike.ipAddress})` : ""}`;
  const wording = WORDING[spike.kind];
  const against = spike.kind === "campaign" ? `distinct principals vs ${spike.baseline} on the busiest comparable hour or day` : spike.kind === "principal" || spike.kind === "spray" ? `failures vs a baseline of ${spike.baseline}` : `failures in the last 24 hours vs ${spike.baseline} ${spike.kind === "ramp" ? `in the 24 hours ${DEFAULT_CHECKS.rampDays - 1} days earlier, rising every day since` : "on every earlier day"}`;
  return {
    severity: spike.kind === "spray" || spike.kind === "campaign" || (spike.kind !== "persistent" && spike.score >= 10) ? "high" : "medium",
    outcome: "needs-action",
    resourceId: deps.workspaceResourceId ?? `/loganalytics/workspaces/${deps.workspaceId}`,
    ruleId: wording.ruleId,
    title: `${wording.title} ${spike.source}`,
    rationale: wording.rationale,
    evidence: `${spike.kind === "campaign" ? spike.distinctPrincipals : spike.failures} ${against} (score ${spike.score}) by ${who} against ${spike.target}; first ${spike.firstSeen.toISOString()}, last ${spike.lastSeen.toISOString()}`,
    nextStep: "Check the principal and source IP in the linked query; block or rotate what is compromised.",
    link: { title: "Open the query in Log Analytics", url: link },
    dedupeKey: ["auth-spike", spike.kind, spike.source, spike.target, spike.principal].join("|"),
    at: deps.now().toISOString(),
  };
}

/** The portal's Logs blade with the query, gzip + base64 as the portal's "share link" does. */
export function deepLink(deps: Pick<SpikeDeps, "portal" | "workspaceResourceId" | "workspaceId">, query: string): string {
  const encoded = encodeURIComponent(gzipSync(Buffer.from(query, "utf8")).toString("base64"));
  const scope = deps.workspaceResourceId ?? deps.workspaceId;
  return `${deps.portal}/#blade/Microsoft_OperationsManagementSuite_Workspace/Logs.ReactView/resourceId/${encodeURIComponent(scope)}/source/LogsBlade.AnalyticsShareLinkToQuery/q/${encoded}/timespan/P7D`;
}

/** Per-workspace checkpoints in Table Storage, shared by instances. */
export class SpikeCheckpoints {
  constructor(private readonly table: TableClient) {}

  async get(workspaceId: string): Promise<Date | undefined> {
    try {
      const entity = await this.table.getEntity<{ windowEnd: string }>("spikes", workspaceId.toLowerCase());
      return new Date(entity.windowEnd);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async set(workspaceId: string, windowEnd: Date): Promise<void> {
    await this.table.upsertEntity({ partitionKey: "spikes", rowKey: workspaceId.toLowerCase(), windowEnd: windowEnd.toISOString() }, "Replace");
  }
}
