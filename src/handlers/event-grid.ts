import type { EventGridEvent, InvocationContext } from "@azure/functions";
import { processEvent } from "../pipeline/process-event.js";
import type { Runtime } from "../runtime.js";
import { countersOf } from "../telemetry.js";
import { rethrow, withInvocation } from "./invocation.js";

/**
 * The Event Grid trigger's handler over a runtime; the registration in functions/ binds it to Azure's runtime. A
 * failure is rethrown (one safe line) so Event Grid redelivers; processEvent alerts instead on the last attempt.
 */
export function createEventGridHandler(getRuntime: () => Promise<Runtime>): (event: EventGridEvent, context: InvocationContext) => Promise<void> {
  return withInvocation<EventGridEvent, void>(
    { source: "event-grid", getRuntime, fields: eventFields, onError: rethrow },
    async (event, { log, deps }) => {
      const result = await processEvent(event, await deps());
      log.info("amlguard event processed", { eventId: result.eventId, decisions: result.outcomes.map((o) => `${o.ruleId ?? "-"}:${o.decision}`) });
      return { result: undefined, counters: countersOf(result.outcomes) };
    },
  );
}

/** The event's id and ARM's correlation id, when the delivery has them (it may be malformed: nothing is assumed). */
function eventFields(event: unknown): Record<string, string | undefined> {
  const record = typeof event === "object" && event !== null ? (event as { id?: unknown; data?: { correlationId?: unknown } }) : {};
  const text = (value: unknown): string | undefined => (typeof value === "string" && /^[\w.:-]{1,100}$/.test(value) ? value : undefined);
  const data = typeof record.data === "object" && record.data !== null ? record.data : {};
  return { eventId: text(record.id), correlationId: text(data.correlationId) };
}
