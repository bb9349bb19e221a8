import type { InvocationContext, Timer } from "@azure/functions";
import type { Runtime } from "../runtime.js";
import { runSpikeDetection } from "../spikes/run.js";
import { NO_COUNTS } from "../telemetry.js";
import { withInvocation } from "./invocation.js";

/** Every 15 minutes by default: failed-authentication spikes against the baseline; a late run covers what it missed. */
export function createSpikesHandler(getRuntime: () => Promise<Runtime>): (timer: Timer, context: InvocationContext) => Promise<void> {
  return withInvocation<Timer, void>(
    { source: "spikes", getRuntime, late: "amlguard spike detection is running late; the window reaches back to the last checkpoint", onError: () => undefined },
    async (_timer, { log, runtime, deps }) => {
      const { spikes } = await runtime();
      if (!spikes) return { result: undefined };
      const run = await runSpikeDetection({ ...spikes, alerts: (await deps()).alerts, now: () => new Date() });
      log.info("amlguard spike detection finished", { windowStart: run.windowStart.toISOString(), windowEnd: run.windowEnd.toISOString(), rows: run.rows, spikes: run.spikes.length });
      return { result: undefined, counters: { ...NO_COUNTS, findings: run.spikes.length, alerts: run.spikes.length } };
    },
  );
}
