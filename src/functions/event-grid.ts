import type { EventGridEvent, InvocationContext } from "@azure/functions";
import { loadConfig } from "../config.js";
import type { Logger } from "../log.js";
import { processEvent } from "../pipeline/process-event.js";
import { createAzureRuntime, depsFor, type Runtime } from "../runtime.js";

/** Logs through the invocation, so lines land in Application Insights with the invocation's id. */
export function contextLogger(context: InvocationContext): Logger {
  return {
    info: (message, fields) => context.log(message, fields ?? {}),
    warn: (message, fields) => context.warn(message, fields ?? {}),
    error: (message, fields) => context.error(message, fields ?? {}),
  };
}

/** The Event Grid trigger's handler over a runtime; the registration in functions/ binds it to Azure's runtime. */
export function createEventGridHandler(getRuntime: () => Promise<Runtime>) {
  return async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const result = await processEvent(event, depsFor(await getRuntime(), log));
    log.info("amlguard event processed", { eventId: result.eventId, decisions: result.outcomes.map((o) => `${o.ruleId ?? "-"}:${o.decision}`) });
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
