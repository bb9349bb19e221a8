import { createHash } from "node:crypto";
import type { Alert } from "./alert.js";

/**
 * What makes two alerts the same (resource, rule, outcome, evidence, or the alert's own dedupe key) and how long the
 * second is dropped. The marks that remember an alert was queued live in the outbox, one per channel beside that
 * channel's alerts, so that marking an alert and queueing it are one Table transaction (Outbox.enqueue): across
 * instances, the same alert within the window is queued once per channel, and never marked without being queued.
 */
export class AlertDedupe {
  constructor(
    readonly windowMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  keyOf(alert: Alert): string {
    return createHash("sha256")
      .update(alert.dedupeKey ?? [alert.resourceId.toLowerCase(), alert.ruleId ?? "", alert.outcome, alert.evidence ?? ""].join("|"))
      .digest("hex")
      .slice(0, 40);
  }

  now(): number {
    return this.clock();
  }

  /** A mark made at `at` no longer suppresses: the window has passed. */
  expired(at: string): boolean {
    return this.now() - Date.parse(at) >= this.windowMs;
  }
}
