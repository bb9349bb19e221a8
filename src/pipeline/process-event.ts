import { ArmError, ResponseIdMismatch } from "../azure/arm-client.js";
import { EventError, parseEvent } from "../events/parse.js";
import { actorOf, madeBySelfIdentity, triage } from "../events/triage.js";
import { describeError } from "../errors.js";
import type { EventLedger } from "../state/ledger.js";
import { assessAndAct, auditEntry, newCorrelationId, type ActContext, type Outcome, type PipelineDeps } from "./assess.js";

export interface EventDeps extends PipelineDeps {
  ledger: EventLedger;
}

export interface EventResult {
  eventId?: string;
  outcomes: Outcome[];
}

/** Raised so that Event Grid redelivers: the message is safe to log (no tokens, no URLs with signatures). */
export class RetryableEventError extends Error {
  override name = "RetryableEventError";
}

/**
 * One Event Grid delivery, end to end: parse, triage (no network), read once, evaluate, decide, commit. Storage is
 * touched only where it must be: an irrelevant event costs nothing (it is counted in telemetry), a compliant one its
 * audit row, a violating one its exemptions read, its action lock and one batch of audit rows (plus the alert
 * outbox). Malformed events are audited and acknowledged; transient failures throw so Event Grid retries, until the
 * last attempt, which alerts instead.
 */
export async function processEvent(raw: unknown, deps: EventDeps, trigger = "event-grid"): Promise<EventResult> {
  const base: ActContext = { trigger, correlationId: newCorrelationId() };
  const finish = async (ctx: ActContext, resourceId: string | undefined, outcome: Outcome): Promise<EventResult> => {
    await deps.audit.record(auditEntry(ctx, resourceId, outcome));
    return { ...(ctx.eventId ? { eventId: ctx.eventId } : {}), outcomes: [outcome] };
  };

  let event;
  try {
    event = await parseEvent(raw);
  } catch (error) {
    if (!(error instanceof EventError)) throw error;
    deps.log.warn("rejected a malformed event", { reason: error.message });
    return finish(base, undefined, { decision: "rejected", message: error.message });
  }
  const ctx: ActContext = {
    ...base,
    correlationId: event.data.correlationId ?? base.correlationId,
    eventId: event.id,
    eventType: event.eventType,
    eventTime: event.time,
    operationName: event.data.operationName,
  };
  const verdict = triage(event);
  if (verdict.verdict === "reject") {
    deps.log.warn("rejected an inconsistent event", { eventId: event.id, reason: verdict.reason });
    return finish({ ...ctx, actor: actorOf(event) }, event.data.resourceUri.slice(0, 1024), { decision: "rejected", message: verdict.reason });
  }
  if (verdict.verdict === "ignore") {
    // Most of a subscription's ML writes are not for amlguard: no storage call, only the telemetry counter.
    return { eventId: event.id, outcomes: [{ decision: "ignored", message: verdict.reason }] };
  }
  const target = verdict.target;
  const acting: ActContext = {
    ...ctx,
    actor: verdict.actor,
    selfIdentity: madeBySelfIdentity(event, deps.settings.self),
    ...(event.data.correlationId ? { eventCorrelationId: event.data.correlationId } : {}),
    related: "skip",
  };

  try {
    let read;
    try {
      read = await deps.arm.get(target.id);
    } catch (error) {
      if (error instanceof ArmError && error.statusCode === 404) {
        return finish(acting, target.id, { decision: "gone", message: "the resource no longer exists" });
      }
      throw error;
    }
    const outcomes = await assessAndAct(read, target.kind, acting, deps);
    return { eventId: event.id, outcomes };
  } catch (error) {
    const reason = describeError(error);
    if (error instanceof ResponseIdMismatch) {
      // Not transient: ARM (or something posing as it) answered about another resource. Write nothing; tell a person.
      await deps.alerts.send({
        severity: "high",
        outcome: "failed",
        resourceId: target.id,
        title: "ARM answered with another resource's id: amlguard wrote nothing",
        evidence: reason,
        nextStep: "Check the resource and the network path to Azure Resource Manager; amlguard acts only on the id it checked.",
        ...(acting.actor ? { actor: acting.actor } : {}),
        eventId: event.id,
        correlationId: acting.correlationId,
        at: deps.now().toISOString(),
      });
      return finish(acting, target.id, { decision: "failed", message: `not acted on: ${reason}` });
    }
    const attempt = await deps.ledger.recordFailure(event.id);
    if (attempt >= deps.settings.maxDeliveryAttempts) {
      await deps.alerts.send({
        severity: "high",
        outcome: "failed",
        resourceId: target.id,
        title: "amlguard could not remediate",
        evidence: reason,
        nextStep: `Event Grid gave up after ${attempt} deliveries; check the resource and run 'amlguard remediate ${target.id}'.`,
        ...(acting.actor ? { actor: acting.actor } : {}),
        eventId: event.id,
        correlationId: acting.correlationId,
        at: deps.now().toISOString(),
      });
      return finish(acting, target.id, { decision: "failed", message: `gave up after ${attempt} deliveries: ${reason}` });
    }
    deps.log.warn("event processing failed; Event Grid will retry", { eventId: event.id, attempt, reason });
    throw new RetryableEventError(`event ${event.id}: ${reason}`);
  }
}
