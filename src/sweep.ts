import { kindOfType, type ArmResource } from "./arm/resource.js";
import { checkTrafficLogs } from "./coverage/traffic-logs.js";
import { ArmError } from "./azure/arm-client.js";
import { mapLimit } from "./concurrency.js";
import { describeError } from "./errors.js";
import { exempts, readExemption } from "./pipeline/exemptions.js";
import { assessAndAct, newCorrelationId, type Outcome, type PipelineDeps } from "./pipeline/assess.js";
import { modeOf } from "./pipeline/settings.js";
import { CHECK_IDS, evaluateResource, ruleById } from "./rules/index.js";
import { scanEstate, type EstateSource, type ScanProgress, type ScanResult } from "./scan.js";
import type { Decision } from "./state/audit.js";

export interface SweepOptions {
  /** Resources acted on at once. */
  concurrency?: number;
  /** Writes one sweep may make in one subscription; the rest wait for the next sweep. */
  maxWritesPerSubscription?: number;
  /** Stop writing in a subscription when ARM reports fewer remaining writes than this. */
  writeReserve?: number;
  /** Check that every online endpoint sends its traffic log to this Log Analytics workspace (the spike detector's). */
  trafficLogsWorkspaceResourceId?: string;
}

export interface SweepReport {
  correlationId: string;
  scan: ScanResult;
  /** How many findings ended in each decision. */
  decisions: Partial<Record<Decision, number>>;
  /** Resources read through ARM (only to act on them). */
  armReads: number;
  errors: Array<{ resourceId: string; message: string }>;
}

/**
 * Reconciles the estate: scan (Resource Graph by default), then put every violating resource through the same
 * pipeline as events. A resource is read through ARM only when a write may follow (a rule in remediate mode, not
 * exempt); alert-only findings are judged on the scanned row. Writes are bounded per subscription and by ARM's
 * remaining-writes budget, so a sweep never throttles the teams that share the subscription.
 */
export async function sweep(source: EstateSource, deps: PipelineDeps, options: SweepOptions = {}, onProgress?: (progress: ScanProgress) => void): Promise<SweepReport> {
  const correlationId = newCorrelationId();
  const scan = await scanEstate(source, onProgress);
  const report: SweepReport = { correlationId, scan, decisions: {}, armReads: 0, errors: [] };
  const writes = new Map<string, number>();
  const maxWrites = options.maxWritesPerSubscription ?? 100;
  const reserve = options.writeReserve ?? 100;
  const writeGate = (resourceId: string): boolean => {
    const subscription = resourceId.split("/")[2]!.toLowerCase();
    const used = writes.get(subscription) ?? 0;
    const remaining = deps.arm.remainingWritesFor(subscription);
    if (used >= maxWrites || (remaining !== undefined && remaining < reserve)) return false;
    writes.set(subscription, used + 1);
    return true;
  };
  let acted = 0;
  await mapLimit(scan.violating, options.concurrency ?? 8, async (row) => {
    const kind = kindOfType(row.type)!;
    try {
      let read = { resource: row } as { resource: ArmResource; etag?: string };
      if (mayWrite(row, deps)) {
        report.armReads += 1;
        read = await deps.arm.get(row.id);
      }
      const outcomes = await assessAndAct(read, kind, { trigger: "sweep", correlationId }, { ...deps, writeGate });
      count(report, outcomes);
    } catch (error) {
      if (error instanceof ArmError && error.statusCode === 404) return count(report, [{ decision: "gone", message: "deleted since the scan" }]);
      report.errors.push({ resourceId: row.id, message: describeError(error) });
    } finally {
      acted += 1;
      onProgress?.({ resources: acted, findings: scan.findings.length, detail: `acting on ${acted}/${scan.violating.length} violating resources` });
    }
  });
  if (options.trafficLogsWorkspaceResourceId) {
    try {
      count(report, await checkTrafficLogs(scan.onlineEndpoints, options.trafficLogsWorkspaceResourceId, { trigger: "sweep", correlationId }, { ...deps, writeGate }));
    } catch (error) {
      report.errors.push({ resourceId: "diagnosticSettings", message: describeError(error) });
    }
  }
  await deps.audit.record({
    decision: "swept",
    trigger: "sweep",
    correlationId,
    message: `swept via ${scan.via}: ${Object.values(scan.resourceCounts).reduce((a, b) => a + b, 0)} resources, ${scan.findings.length} findings, ` +
      `${JSON.stringify(report.decisions)}, ${report.armReads} ARM reads, ${scan.errors.length + report.errors.length} errors`,
  });
  return report;
}

/** Whether acting on this row may write: some finding's rule is in remediate mode, has a write action, and is not exempt. */
function mayWrite(row: ArmResource, deps: PipelineDeps): boolean {
  const exemption = readExemption(row, CHECK_IDS, deps.now());
  return (evaluateResource(row) ?? []).some((finding) => {
    const rule = ruleById(finding.ruleId)!;
    return modeOf(deps.settings, rule.id) === "remediate" && rule.remediationAction !== "alert-only" && !exempts(exemption, rule.id);
  });
}

function count(report: SweepReport, outcomes: Outcome[]): void {
  for (const outcome of outcomes) report.decisions[outcome.decision] = (report.decisions[outcome.decision] ?? 0) + 1;
}
