import type { MlResourceKind } from "../arm/resource.js";
import type { ArmRead } from "../azure/arm-client.js";
import { describeError } from "../errors.js";
import { listDiagnosticSettings } from "../remediation/diagnostic-setting.js";
import { needsRelated, rulesFor } from "../rules/index.js";
import type { RuleInputs } from "../rules/rule.js";
import type { ActContext, PipelineDeps } from "./context.js";

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
