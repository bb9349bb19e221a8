import { kindOfType, type ArmResource } from "./arm/resource.js";
import { ArmError, type ArmRead } from "./azure/arm-client.js";
import { mapLimit } from "./concurrency.js";
import { alertExpiredExemptions } from "./exemptions/approve.js";
import { expireProposals } from "./proposals/expire.js";
import { describeError } from "./errors.js";
import { assessAndAct, gatherInputs, newCorrelationId, type ActContext, type Outcome, type PipelineDeps } from "./pipeline/assess.js";
import { modeOf } from "./pipeline/settings.js";
import { evaluateRules, type ResourceEvaluation } from "./rules/index.js";
import { scanEstate, type EstateSource, type ScanProgress, type ScanResult } from "./scan.js";
import type { Decision } from "./state/audit.js";

export interface SweepOptions {
  /** Resources acted on at once. */
  concurrency?: number;
  /** Writes one sweep may make in one subscription; the rest wait for the next sweep. */
  maxWritesPerSubscription?: number;
  /** Stop writing in a subscription when ARM reports fewer remaining writes than this. */
  writeReserve?: number;
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
 * Reconciles the estate: scan (Resource Graph by default), then put every violating resource, and every resource
 * whose rules need related resources, through the same pipeline as events. A resource is read through ARM only when
 * a write may follow (a rule in remediate mode with a fix, not exempt); alert-only findings are judged on the scanned
 * row. Writes are bounded per subscription and by ARM's remaining-writes budget, so a sweep never throttles the teams
 * that share the subscription. One resource's failure is recorded and the sweep goes on.
 */
export async function sweep(source: EstateSource, deps: PipelineDeps, options: SweepOptions = {}, onProgress?: (progress: ScanProgress) => void): Promise<SweepReport> {
  const correlationId = newCorrelationId();
  const scan = await scanEstate(source, onProgress);
  const report: SweepReport = { correlationId, scan, decisions: {}, armReads: 0, errors: [] };
  const writes = new Map<string, number>();
  const maxWrites = options.maxWritesPerSubscription ?? 100;
  const reserve = options.writeReserve ?? 20; // ARM: 200-token bucket per subscription and principal, +10/s; keep 2 s of refill for event-driven writes
  const writeGate = (resourceId: string): boolean => {
    const subscription = resourceId.split("/")[2]!.toLowerCase();
    const used = writes.get(subscription) ?? 0;
    const remaining = deps.arm.remainingWritesFor(subscription);
    if (used >= maxWrites || (remaining !== undefined && remaining < reserve)) return false;
    writes.set(subscription, used + 1);
    return true;
  };
  const toAct = new Map<string, ArmResource>();
  for (const row of [...scan.violating, ...scan.needingRelated]) toAct.set(row.id.toLowerCase(), row);
  const ctx: ActContext = { trigger: "sweep", correlationId, related: "read" };
  let acted = 0;
  await mapLimit([...toAct.values()], options.concurrency ?? 8, async (row) => {
    const kind = kindOfType(row.type)!;
    try {
      let read: ArmRead = { resource: row };
      const inputs = await gatherInputs(read, kind, ctx, deps);
      // The scan's evaluation of this row is reused; rules needing related resources are evaluated with them.
      let evaluation: ResourceEvaluation = inputs.diagnosticSettings ? evaluateRules(row, inputs)! : (scan.evaluations.get(row.id) ?? evaluateRules(row, inputs)!);
      if (mayWrite(evaluation, deps)) {
        report.armReads += 1;
        read = await deps.arm.get(row.id);
        // A write is planned from what ARM returns now, not from the index: evaluate the fresh read.
        evaluation = evaluateRules(read.resource, inputs)!;
      }
      count(report, await assessAndAct(read, kind, ctx, { ...deps, writeGate }, { inputs, evaluation }));
    } catch (error) {
      if (error instanceof ArmError && error.statusCode === 404) return count(report, [{ decision: "gone", message: "deleted since the scan" }]);
      report.errors.push({ resourceId: row.id, message: describeError(error) });
    } finally {
      acted += 1;
      onProgress?.({ resources: acted, findings: scan.findings.length, detail: `acting on ${acted}/${toAct.size} resources` });
    }
  });
  try {
    // Expired exemptions are alerted once, so nobody learns of an expiry from a remediation.
    await alertExpiredExemptions({ store: deps.exemptions, audit: deps.audit, alerts: deps.alerts, now: deps.now });
  } catch (error) {
    report.errors.push({ resourceId: "exemptions", message: describeError(error) });
  }
  try {
    // Proposals nobody decided in time are expired and alerted once: nothing was written for them.
    if (deps.proposals) await expireProposals({ proposals: deps.proposals, audit: deps.audit, alerts: deps.alerts, now: deps.now });
  } catch (error) {
    report.errors.push({ resourceId: "proposals", message: describeError(error) });
  }
  await deps.audit.record({
    decision: "swept",
    trigger: "sweep",
    correlationId,
    message: `swept via ${scan.via}: ${Object.values(scan.resourceCounts).reduce((a, b) => a + b, 0)} resources, ${scan.findings.length} findings, ` +
      `${JSON.stringify(report.decisions)}, ${report.armReads} ARM reads, ${scan.errors.length + report.errors.length} errors, computes via ${scan.computeSource.via} (${scan.computeSource.reason})`,
  });
  return report;
}

/**
 * Whether acting on this row may write: some violation's rule is in remediate mode (or approve: a proposal records the
 * ETag ARM gives, which the index row lacks) and has a fix. Exemptions are judged by the pipeline on the ARM read
 * (approved ones, from the store); a tag on the row exempts nothing.
 */
function mayWrite(evaluation: ResourceEvaluation, deps: PipelineDeps): boolean {
  return evaluation.violations.some(({ rule }) => ["remediate", "approve"].includes(modeOf(deps.settings, rule.id)) && rule.fix !== undefined);
}

function count(report: SweepReport, outcomes: Outcome[]): void {
  for (const outcome of outcomes) report.decisions[outcome.decision] = (report.decisions[outcome.decision] ?? 0) + 1;
}
