import type { InvocationContext, Timer } from "@azure/functions";
import { depsFor, type Runtime } from "../runtime.js";
import { purgeStale } from "../state/retention.js";
import { sweep } from "../sweep.js";
import { emitCounters } from "../telemetry.js";
import { contextLogger } from "./event-grid.js";

/** The daily reconciliation: events can be lost, and a new deployment starts with an existing estate. */
export function createSweepHandler(getRuntime: () => Promise<Runtime>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const runtime = await getRuntime();
    if (!runtime.sweep) return;
    if (timer.isPastDue) log.warn("amlguard sweep is running late");
    const report = await sweep(runtime.sweep.source(), depsFor(runtime, log), runtime.sweep.options);
    log.info("amlguard sweep finished", {
      correlationId: report.correlationId,
      via: report.scan.via,
      resources: Object.values(report.scan.resourceCounts).reduce((a, b) => a + b, 0),
      findings: report.scan.findings.length,
      decisions: report.decisions,
      armReads: report.armReads,
      errors: report.scan.errors.length + report.errors.length,
    });
    const counters = { findings: report.scan.findings.length, remediations: report.decisions.remediated ?? 0, alerts: report.decisions.alerted ?? 0, failures: (report.decisions.failed ?? 0) + report.errors.length, deferred: report.decisions.deferred ?? 0 };
    emitCounters(log, "sweep", counters);
    if (runtime.retention) log.info("amlguard pruned coordination tables", await purgeStale(runtime.retention, new Date()));
  };
}
