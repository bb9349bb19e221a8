import { createHash } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import type { Logger } from "../log.js";
import { SEVERITY_ORDER } from "../shared/types.js";
import { inertLine, inertText } from "../shared/inert.js";
import { claimRow } from "../state/claim.js";
import type { Alert, AlertSink } from "./alert.js";
import type { AlertChannel } from "./channels.js";
import type { Outbox } from "./outbox.js";

/**
 * Suppresses the same alert (resource, rule, outcome, evidence) seen again within a window, across instances:
 * a conditional insert per key, re-armed with its ETag once the window has passed.
 */
export class AlertDedupe {
  constructor(
    private readonly table: TableClient,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async firstInWindow(alert: Alert): Promise<boolean> {
    const key = createHash("sha256")
      .update(alert.dedupeKey ?? [alert.resourceId.toLowerCase(), alert.ruleId ?? "", alert.outcome, alert.evidence ?? ""].join("|"))
      .digest("hex")
      .slice(0, 40);
    const result = await claimRow<{ at: string }>(
      this.table,
      { partitionKey: key, rowKey: "seen" },
      () => ({ at: new Date(this.now()).toISOString() }),
      (existing) => this.now() - Date.parse(existing.at) >= this.windowMs,
    );
    return result.held;
  }
}

/**
 * The pipeline's AlertSink: logs every alert (Application Insights), drops duplicates within the window, and queues
 * the rest in the outbox for each channel whose minimum severity it meets.
 */
export class AlertRouter implements AlertSink {
  constructor(
    private readonly channels: readonly AlertChannel[],
    private readonly outbox: Outbox,
    private readonly dedupe: AlertDedupe,
    private readonly log: Logger,
  ) {}

  async send(raw: Alert): Promise<void> {
    const alert = inertAlert(raw);
    this.log.warn(`alert: ${alert.outcome}: ${alert.title}`, { severity: alert.severity, ruleId: alert.ruleId, resourceId: alert.resourceId, outcome: alert.outcome, correlationId: alert.correlationId });
    if (!(await this.dedupe.firstInWindow(alert))) {
      this.log.info("alert suppressed: the same alert was sent within the dedupe window", { ruleId: alert.ruleId, resourceId: alert.resourceId });
      return;
    }
    for (const channel of this.channels) {
      if (SEVERITY_ORDER.indexOf(alert.severity) <= SEVERITY_ORDER.indexOf(channel.minSeverity)) await this.outbox.enqueue(channel.name, alert);
    }
  }
}

/**
 * Every alert passes here on its way to people: fields that can carry outside text (evidence from logs and tags,
 * names, claims) lose control characters and length; free text also loses clickable URLs. Commands (undo) keep their
 * characters so they still paste, but no control character survives.
 */
export function inertAlert(alert: Alert): Alert {
  const text = (value: string | undefined, max: number) => (value === undefined ? undefined : inertText(value, max));
  const line = (value: string | undefined, max: number) => (value === undefined ? undefined : inertLine(value, max));
  const fields = {
    title: inertText(alert.title, 200),
    rationale: text(alert.rationale, 1000),
    evidence: text(alert.evidence, 1000),
    actionTaken: text(alert.actionTaken, 1000),
    nextStep: text(alert.nextStep, 1000),
    undo: line(alert.undo, 2000),
    actor: alert.actor ? Object.fromEntries(Object.entries(alert.actor).map(([k, v]) => [k, typeof v === "string" ? inertText(v, 200) : v])) : undefined,
  };
  return Object.fromEntries(Object.entries({ ...alert, ...fields }).filter(([, v]) => v !== undefined)) as unknown as Alert;
}
