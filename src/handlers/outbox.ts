import type { InvocationContext, Timer } from "@azure/functions";
import type { Runtime } from "../runtime.js";
import { withInvocation } from "./invocation.js";

/** The outbox timer: delivers queued alerts, retrying those whose channel failed, and digests bursts. */
export function createOutboxHandler(getRuntime: () => Promise<Runtime>): (timer: Timer, context: InvocationContext) => Promise<void> {
  return withInvocation<Timer, void>(
    { source: "outbox", getRuntime, late: "amlguard alert outbox is running late; queued alerts wait for it", onError: () => undefined },
    async (_timer, { log, runtime }) => {
      const { alerting } = await runtime();
      if (!alerting || alerting.channels.length === 0) return { result: undefined };
      const report = await alerting.outbox.dispatch(alerting.channels, log);
      if (report.messages || report.failed || report.rejected || report.expired) log.info("amlguard outbox dispatched", { ...report });
      return { result: undefined };
    },
  );
}
