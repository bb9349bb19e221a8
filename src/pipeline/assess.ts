import type { MlResourceKind } from "../arm/resource.js";
import type { ArmRead } from "../azure/arm-client.js";
import { describeError } from "../errors.js";
import { listDiagnosticSettings } from "../remediation/diagnostic-setting.js";
import { planFix } from "../remediation/index.js";
import { evaluateRules, needsRelated, RULE_IDS, rulesFor, type ResourceEvaluation } from "../rules/index.js";
import type { RuleInputs } from "../rules/rule.js";
import { commit } from "./commit.js";
import type { ActContext, Outcome, PipelineDeps } from "./context.js";
import { decide, type OwnWrite, type Step } from "./decide.js";
import { inForce } from "../exemptions/store.js";
import { readExemption } from "./exemptions.js";
import { modeOf } from "./settings.js";

export { auditEntry, newCorrelationId, type ActContext, type Outcome, type PipelineDeps } from "./context.js";

/** What a caller already gathered and evaluated for this same read. */
export interface Prepared {
  inputs: RuleInputs;
  evaluation: ResourceEvaluation;
}

/**
 * The one path every check takes, for events, sweeps and manual remediation alike: gather the related resources the
 * kind's rules need, evaluate (pure), decide (pure), commit (writes, then audit rows and alerts in one pass).
 * `prepared` passes along what the caller already evaluated on this same read, so nothing is evaluated twice.
 */
export async function assessAndAct(read: ArmRead, kind: MlResourceKind, ctx: ActContext, deps: PipelineDeps, prepared?: Prepared): Promise<Outcome[]> {
  const inputs = prepared?.inputs ?? (await gatherInputs(read, kind, ctx, deps));
  const evaluation = prepared?.evaluation ?? evaluateRules(read.resource, inputs) ?? { violations: [], unevaluated: [] };
  const evaluated = ctx.related === "skip" ? { ...evaluation, unevaluated: [] } : evaluation;
  const recognised = ctx.selfIdentity ? await recogniseOwnWrite(read, ctx, deps) : undefined;
  const request = readExemption(read.resource, RULE_IDS, deps.now());
  // The tag is only a request; what exempts is an approval, read (only when something could be exempted) just
  // before the decision, so the decision and any write made from it see the exemptions in force now.
  const requestIsNew = request.kind === "valid" && !recognised ? await deps.exemptions.recordRequest(read.resource.id, request.raw, ctx.actor, deps.now()) : false;
  const approved = (evaluated.violations.length || requestIsNew) && !recognised ? (await deps.exemptions.forResource(read.resource.id)).filter((e) => inForce(e, deps.now())) : [];
  const steps = decide({
    evaluation: evaluated,
    request,
    approved,
    requestIsNew,
    ...(ctx.overrideExemptions ? { overrideExemptions: true } : {}),
    modeOf: (rule) => ctx.mode ?? modeOf(deps.settings, rule.id),
    ownWrite: recognised,
    planFor: (rule) => planFix(rule.fix, kind, read, inputs),
    ...(ctx.ruleIds ? { ruleIds: ctx.ruleIds } : {}),
  });
  if (ctx.selfIdentity && !recognised) steps.unshift(unrecordedSelfWrite(read, ctx, deps));
  return commit(steps, read, ctx, deps);
}

/** How an event by amlguard's identity was recognised as one of its own recorded writes, if it was. */
async function recogniseOwnWrite(read: ArmRead, ctx: ActContext, deps: PipelineDeps): Promise<OwnWrite | undefined> {
  const eventTime = ctx.eventTime ? new Date(ctx.eventTime) : deps.now();
  const how = await deps.locks.recognise(read.resource.id, ctx.eventCorrelationId, ctx.eventId ?? ctx.correlationId, eventTime);
  return how ? { how } : undefined;
}

/**
 * A write by amlguard's identity that amlguard did not record: someone else runs code as amlguard. It is judged like
 * any other write (the findings below still act), and a person is told at once.
 */
function unrecordedSelfWrite(read: ArmRead, ctx: ActContext, deps: PipelineDeps): Step {
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

/**
 * The related resources this kind's rules declare. A failed read leaves the input absent, so the rules that need it
 * are reported as not evaluated rather than passing.
 */
export async function gatherInputs(read: ArmRead, kind: MlResourceKind, ctx: ActContext, deps: PipelineDeps): Promise<RuleInputs> {
  const inputs: RuleInputs = deps.settings.spikeWorkspaceResourceId ? { spikeWorkspaceResourceId: deps.settings.spikeWorkspaceResourceId } : {};
  if (ctx.related === "skip" || !needsRelated(kind)) return inputs;
  const wanted = new Set(rulesFor(kind).flatMap((rule) => rule.related ?? []));
  if (wanted.has("diagnosticSettings")) {
    try {
      inputs.diagnosticSettings = await listDiagnosticSettings(deps.arm.withCorrelationId(ctx.correlationId), read.resource.id);
    } catch (error) {
      deps.log.warn("could not read diagnostic settings", { resourceId: read.resource.id, error: describeError(error) });
    }
  }
  return inputs;
}
