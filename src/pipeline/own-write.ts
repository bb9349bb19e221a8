import type { ArmRead } from "../azure/arm-client.js";
import type { ActContext, PipelineDeps } from "./context.js";
import type { OwnWrite, Step } from "./decide.js";

/** How an event by amlguard's identity was recognised as one of its own recorded writes, if it was. */
export async function recogniseOwnWrite(read: ArmRead, ctx: ActContext, deps: PipelineDeps): Promise<OwnWrite | undefined> {
  const eventTime = ctx.eventTime ? new Date(ctx.eventTime) : deps.now();
  const how = await deps.locks.recognise(read.resource.id, ctx.eventCorrelationId, ctx.eventId ?? ctx.correlationId, eventTime);
  return how ? { how } : undefined;
}

/**
 * A write by amlguard's identity that amlguard did not record: someone else runs code as amlguard. It is judged like
 * any other write (the findings below still act), and a person is told at once.
 */
export function unrecordedSelfWrite(read: ArmRead, ctx: ActContext, deps: PipelineDeps): Step {
  const message = "amlguard's identity made a write amlguard did not make (no recorded correlation id matches): judged like any other write";
  return {
    type: "record",
    outcome: { decision: "unrecorded-self-write", message },
    alert: {
      severity: "high",
      outcome: "needs-action",
      resourceId: read.resource.id,
      title: "amlguard's identity made a write amlguard did not make",
      evidence: `${ctx.operationName ?? "a write"} by amlguard's identity; correlation id ${ctx.eventCorrelationId ?? "absent"} matches no write amlguard recorded`,
      nextStep: "Find who can use amlguard's managed identity (federated credentials, code running in the Function App) and review the change.",
      ...(ctx.actor ? { actor: ctx.actor } : {}),
      ...(ctx.eventId ? { eventId: ctx.eventId } : {}),
      correlationId: ctx.correlationId,
      at: deps.now().toISOString(),
    },
  };
}
