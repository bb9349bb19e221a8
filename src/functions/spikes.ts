import type { InvocationContext, Timer } from "@azure/functions";
import { depsFor, type Runtime } from "../runtime.js";
import { runSpikeDetection } from "../spikes/run.js";
import { emitCounters } from "../telemetry.js";
import { contextLogger } from "./event-grid.js";

/** Every 15 minutes by default: failed-authentication spikes against the baseline; a late run covers what it missed. */
export function createSpikesHandler(getRuntime: () => Promise<Runtime>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const runtime = await getRuntime();
    if (!runtime.spikes) return;
    if (timer.isPastDue) log.warn("amlguard spike detection is running late; the window reaches back to the last checkpoint");
    const run = await runSpikeDetection({ ...runtime.spikes, alerts: depsFor(runtime, log).alerts, now: () => new Date() });
    log.info("amlguard spike detection finished", { windowStart: run.windowStart.toISOString(), windowEnd: run.windowEnd.toISOString(), rows: run.rows, spikes: run.spikes.length });
    emitCounters(log, "spikes", { findings: run.spikes.length, remediations: 0, alerts: run.spikes.length, failures: 0, deferred: 0 });
  };
}
