import type { MlResourceKind } from "../arm/resource.js";
import type { ArmRead } from "../azure/arm-client.js";
import { planFix } from "../remediation/index.js";
import { evaluateRules, RULE_IDS, type ResourceEvaluation } from "../rules/index.js";
import type { RuleInputs } from "../rules/rule.js";
import { commit } from "./commit.js";
import type { ActContext, Outcome, PipelineDeps } from "./context.js";
import { decide } from "./decide.js";
import { recogniseOwnWrite, unrecordedSelfWrite } from "./own-write.js";
import { gatherInputs } from "./related.js";
import { inForce } from "../exemptions/store.js";
import { readExemption } from "./exemptions.js";
import { modeOf } from "./settings.js";

export { auditEntry, newCorrelationId, type ActContext, type Outcome, type PipelineDeps } from "./context.js";
export { gatherInputs } from "./related.js";

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
