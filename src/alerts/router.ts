import type { Logger } from "../log.js";
import { SEVERITY_ORDER } from "../shared/types.js";
import type { Alert, AlertSink } from "./alert.js";
import type { AlertDedupe } from "./dedupe.js";
import { inertAlert } from "./inert-alert.js";
import type { AlertChannel } from "./channels.js";
import type { Outbox } from "./outbox.js";

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
