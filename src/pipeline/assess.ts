import type { MlResourceKind } from "../arm/resource.js";
import type { ArmRead } from "../azure/arm-client.js";
import { describeError } from "../errors.js";
import { listDiagnosticSettings } from "../remediation/diagnostic-setting.js";
import { planFix } from "../remediation/index.js";
import { evaluateRules, needsRelated, RULE_IDS, rulesFor, type ResourceEvaluation } from "../rules/index.js";
import type { RuleInputs } from "../rules/rule.js";
import { commit } from "./commit.js";
import type { ActContext, Outcome, PipelineDeps } from "./context.js";
import { decide } from "./decide.js";
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
  const steps = decide({
    evaluation: evaluated,
    exemption: readExemption(read.resource, RULE_IDS, deps.now()),
    modeOf: (rule) => ctx.mode ?? modeOf(deps.settings, rule.id),
    ownWrite: ctx.ownWrite === true,
    planFor: (rule) => planFix(rule.fix, kind, read, inputs),
    ...(ctx.ruleIds ? { ruleIds: ctx.ruleIds } : {}),
  });
  return commit(steps, read, ctx, deps);
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
