import type { Logger } from "../log.js";
import { SEVERITY_ORDER } from "../shared/types.js";
import type { Alert, AlertSink } from "./alert.js";
import type { AlertDedupe } from "./dedupe.js";
import { inertAlert } from "./inert-alert.js";
import type { AlertChannel } from "./channels.js";
import type { Outbox } from "./outbox.js";

/**
 * The pipeline's AlertSink: logs every alert (Application Insights) and queues it in the outbox for each channel whose
 * minimum severity it meets, unless the same alert was queued there within the dedupe window.
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
    for (const channel of this.channels) {
      if (SEVERITY_ORDER.indexOf(alert.severity) > SEVERITY_ORDER.indexOf(channel.minSeverity)) continue;
      // The dedupe mark and the queued alert are one write per channel (Outbox.enqueue).
      if (!(await this.outbox.enqueue(channel.name, alert, this.dedupe))) {
        this.log.info("alert suppressed: the same alert was sent within the dedupe window", { channel: channel.name, ruleId: alert.ruleId, resourceId: alert.resourceId });
      }
    }
  }
}
