import type { InvocationContext, Timer } from "@azure/functions";
import type { Runtime } from "../runtime.js";
import { contextLogger } from "./event-grid.js";

/** The outbox timer: delivers queued alerts, retrying those whose channel failed, and digests bursts. */
export function createOutboxHandler(getRuntime: () => Promise<Runtime>) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const { alerting } = await getRuntime();
    if (!alerting || alerting.channels.length === 0) return;
    const report = await alerting.outbox.dispatch(alerting.channels, log);
    if (report.messages || report.failed || report.rejected || report.expired) log.info("amlguard outbox dispatched", { ...report });
  };
}
