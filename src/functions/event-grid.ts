import type { EventGridEvent, InvocationContext } from "@azure/functions";
import { loadConfig } from "../config.js";
import type { Logger } from "../log.js";
import { processEvent } from "../pipeline/process-event.js";
import { createAzureRuntime, depsFor, type Runtime } from "../runtime.js";
import { countersOf, emitCounters } from "../telemetry.js";

/**
 * Logs through the invocation, so lines land in Application Insights with the invocation's id. Fields are JSON on
 * the same line (the worker would otherwise format them with util.inspect), so KQL can parse_json them.
 */
export function contextLogger(context: InvocationContext): Logger {
  const line = (message: string, fields?: Record<string, unknown>): string => (fields ? `${message} ${JSON.stringify(fields)}` : message);
  return {
    info: (message, fields) => context.log(line(message, fields)),
    warn: (message, fields) => context.warn(line(message, fields)),
    error: (message, fields) => context.error(line(message, fields)),
  };
}

/** The Event Grid trigger's handler over a runtime; the registration in functions/ binds it to Azure's runtime. */
export function createEventGridHandler(getRuntime: () => Promise<Runtime>) {
  return async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const result = await processEvent(event, depsFor(await getRuntime(), log));
    log.info("amlguard event processed", { eventId: result.eventId, decisions: result.outcomes.map((o) => `${o.ruleId ?? "-"}:${o.decision}`) });
    emitCounters(log, "event-grid", countersOf(result.outcomes));
  };
}

let azureRuntime: Promise<Runtime> | undefined;

/** Made on first use and kept for the life of the worker, so warm invocations reuse clients and connections. */
export function lazyAzureRuntime(): Promise<Runtime> {
  azureRuntime ??= createAzureRuntime(loadConfig()).catch((error: unknown) => {
    azureRuntime = undefined;
    throw error;
  });
  return azureRuntime;
}
