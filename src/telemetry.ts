import type { Logger } from "./log.js";
import type { Outcome } from "./pipeline/assess.js";

export interface Counters {
  findings: number;
  remediations: number;
  alerts: number;
  failures: number;
  deferred: number;
  /** Events not for amlguard: they write no audit row, so this counter is where they are seen. */
  ignored?: number;
  rejected?: number;
}

export const NO_COUNTS: Readonly<Counters> = { findings: 0, remediations: 0, alerts: 0, failures: 0, deferred: 0 };

/** Counters from a batch of decisions: what Azure Monitor alert rules watch (README: Telemetry). */
export function countersOf(outcomes: readonly Outcome[]): Counters {
  const counters: Counters = { ...NO_COUNTS };
  for (const outcome of outcomes) {
    if (outcome.ruleId) counters.findings += 1;
    if (outcome.decision === "remediated") counters.remediations += 1;
    if (outcome.decision === "alerted" || outcome.decision === "dry-run") counters.alerts += 1;
    if (outcome.decision === "failed") counters.failures += 1;
    if (outcome.decision === "deferred") counters.deferred += 1;
    if (outcome.decision === "ignored") counters.ignored = (counters.ignored ?? 0) + 1;
    if (outcome.decision === "rejected") counters.rejected = (counters.rejected ?? 0) + 1;
  }
  return counters;
}

/**
 * One line per invocation, `amlguard.metrics {json}`, so a log-based metric or alert can read it:
 * traces | where message startswith "amlguard.metrics " | extend m = parse_json(substring(message, 17))
 */
export function emitCounters(log: Logger, source: string, counters: Counters): void {
  log.info("amlguard.metrics", { source, ...counters });
}
