import type { InvocationContext, Timer } from "@azure/functions";
import type { Runtime } from "../runtime.js";
import { purgeStale } from "../state/retention.js";
import { describeError } from "../errors.js";
import { sweep } from "../sweep.js";
import { withInvocation } from "./invocation.js";

/** The daily reconciliation: events can be lost, and a new deployment starts with an existing estate. */
export function createSweepHandler(getRuntime: () => Promise<Runtime>): (timer: Timer, context: InvocationContext) => Promise<void> {
  return withInvocation<Timer, void>(
    { source: "sweep", getRuntime, late: "amlguard sweep is running late", onError: () => undefined },
    async (_timer, { log, runtime, deps }) => {
      const { sweep: plan, retention } = await runtime();
      if (!plan) return { result: undefined };
      const report = await sweep(plan.source(), await deps(), plan.options);
      log.info("amlguard sweep finished", {
        correlationId: report.correlationId,
        via: report.scan.via,
        resources: Object.values(report.scan.resourceCounts).reduce((a, b) => a + b, 0),
        findings: report.scan.findings.length,
        decisions: report.decisions,
        armReads: report.armReads,
        errors: report.scan.errors.length + report.errors.length,
      });
      if (retention) {
        // Pruning is housekeeping: its failure is logged, and the sweep's own counts still go out.
        await purgeStale(retention, new Date()).then(
          (pruned) => log.info("amlguard pruned coordination tables", pruned),
          (error: unknown) => log.warn("amlguard could not prune the coordination tables; the next sweep tries again", { error: describeError(error) }),
        );
      }
      const { decisions } = report;
      const counters = { findings: report.scan.findings.length, remediations: decisions.remediated ?? 0, alerts: decisions.alerted ?? 0, failures: (decisions.failed ?? 0) + report.errors.length, deferred: decisions.deferred ?? 0 };
      return { result: undefined, counters };
    },
  );
}
