import { z } from "zod";
import { parseMlResourceId, ResourceIdError, type MlResourceId } from "../arm/ids.js";
import { ArmError } from "../azure/arm-client.js";
import { describeError } from "../errors.js";
import { assessAndAct, gatherInputs, newCorrelationId, type ActContext, type Outcome, type PipelineDeps } from "../pipeline/assess.js";
import { canonicalRuleId, evaluateRules, RULE_IDS, RULES, toFinding, type Finding } from "../rules/index.js";
import type { Actor } from "../state/audit.js";
import type { InflightRequests } from "../state/throttle.js";

/** A refusal with the HTTP status it maps to; the message is for the caller (no internals). */
export class ManualError extends Error {
  override name = "ManualError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ruleId = z.string().transform((id, ctx) => {
  const canonical = canonicalRuleId(id);
  if (!canonical) ctx.addIssue({ code: "custom", message: `unknown rule id '${id.slice(0, 80)}'; known: ${RULE_IDS.join(", ")}` });
  return canonical ?? id;
});

export const remediateRequestSchema = z
  .object({
    resourceId: z.string().min(1).max(1024),
    rules: z.array(ruleId).min(1).max(RULES.length).optional(),
    dryRun: z.boolean().optional(),
    /** Act even where an approved exemption covers a rule: explicit, and audited per rule. */
    overrideExemptions: z.boolean().optional(),
    reason: z.string().trim().min(3, "reason must say why (3 characters or more)").max(500),
  })
  .strict();

export type RemediateRequest = z.infer<typeof remediateRequestSchema>;

export interface ManualDeps extends PipelineDeps {
  /** Subscriptions amlguard may act in; ids elsewhere are refused before any call. */
  allowedSubscriptions: readonly string[];
  inflight: InflightRequests;
}

export interface FindingResult {
  /** Absent for decisions about the whole resource (compliant, exemption-invalid). */
  ruleId?: string;
  severity?: string;
  title?: string;
  evidence?: string;
  decision: Outcome["decision"];
  actionId?: string;
  before?: Outcome["before"];
  after?: Outcome["after"];
  message: string;
}

export interface ManualResult {
  correlationId: string;
  resourceId: string;
  dryRun: boolean;
  findings: FindingResult[];
}

/** Parses and scopes a resource id: a supported ML type in an allowed subscription, or a ManualError. */
export function scopedResourceId(resourceId: string, allowedSubscriptions: readonly string[]): MlResourceId {
  let id: MlResourceId;
  try {
    id = parseMlResourceId(resourceId);
  } catch (error) {
    if (error instanceof ResourceIdError) throw new ManualError(400, "InvalidResourceId", error.message);
    throw error;
  }
  if (!allowedSubscriptions.some((s) => s.toLowerCase() === id.subscriptionId)) {
    throw new ManualError(403, "SubscriptionNotInScope", "the resource's subscription is not one amlguard manages");
  }
  return id;
}

async function read(id: MlResourceId, deps: PipelineDeps) {
  try {
    return await deps.arm.get(id.id);
  } catch (error) {
    if (error instanceof ArmError && error.statusCode === 404) throw new ManualError(404, "ResourceNotFound", "the resource does not exist");
    if (error instanceof ArmError && error.statusCode === 403) throw new ManualError(502, "AzureAuthorizationFailed", "amlguard's identity may not read this resource");
    throw error;
  }
}

/** Evaluates one resource on demand; reads it once, writes nothing. */
export async function manualFindings(resourceId: string, deps: ManualDeps): Promise<{ correlationId: string; resourceId: string; findings: Finding[] }> {
  const id = scopedResourceId(resourceId, deps.allowedSubscriptions);
  const snapshot = await read(id, deps);
  const correlationId = newCorrelationId();
  const inputs = await gatherInputs(snapshot, id.kind, { trigger: "findings", correlationId, related: "read" }, deps);
  const findings = evaluateRules(snapshot.resource, inputs)?.violations.map((v) => toFinding(snapshot.resource, v)) ?? [];
  return { correlationId, resourceId: id.id, findings };
}

/**
 * Manual remediation (HTTP or CLI): the same pipeline as events, with mode remediate for the selected rules, the
 * caller as the actor and their reason in the audit trail. An identical request already running is refused (409).
 */
export async function manualRemediate(request: RemediateRequest, caller: Actor, trigger: string, deps: ManualDeps): Promise<ManualResult> {
  const id = scopedResourceId(request.resourceId, deps.allowedSubscriptions);
  const dryRun = request.dryRun === true || deps.settings.dryRun;
  const requestKey = JSON.stringify([id.id.toLowerCase(), [...(request.rules ?? [])].sort(), dryRun]);
  if (!(await deps.inflight.begin(requestKey))) {
    throw new ManualError(409, "RequestInProgress", "an identical request is running; retry when it has finished");
  }
  try {
    const snapshot = await read(id, deps);
    const correlationId = newCorrelationId();
    const ctx: ActContext = {
      trigger,
      correlationId,
      actor: caller,
      mode: "remediate",
      dryRun,
      reason: request.reason,
      related: "read",
      ...(request.overrideExemptions ? { overrideExemptions: true } : {}),
      ...(request.rules ? { ruleIds: request.rules } : {}),
    };
    // Evaluated once: the same evaluation reports the findings and is passed to the pipeline.
    const inputs = await gatherInputs(snapshot, id.kind, ctx, deps);
    const evaluation = evaluateRules(snapshot.resource, inputs) ?? { violations: [], unevaluated: [] };
    const findings = new Map(evaluation.violations.map((v) => [v.rule.id, toFinding(snapshot.resource, v)]));
    const outcomes = await assessAndAct(snapshot, id.kind, ctx, deps, { inputs, evaluation });
    return {
      correlationId,
      resourceId: id.id,
      dryRun,
      findings: outcomes.map((o) => {
        const finding = o.ruleId ? findings.get(o.ruleId) : undefined;
        return {
          ...(o.ruleId ? { ruleId: o.ruleId } : {}),
          ...(finding ? { severity: finding.severity, title: finding.title, evidence: finding.evidence.summary } : {}),
          decision: o.decision,
          ...(o.actionId ? { actionId: o.actionId } : {}),
          ...(o.before ? { before: o.before } : {}),
          ...(o.after ? { after: o.after } : {}),
          message: o.message,
        };
      }),
    };
  } catch (error) {
    if (error instanceof ManualError) throw error;
    deps.log.error("manual remediation failed", { resourceId: id.id, error: describeError(error) });
    // The caller gets Azure's status and code, not its message or anything internal; the log has the detail.
    const detail = error instanceof ArmError ? `Azure answered ${error.statusCode} ${error.code}` : "an internal error occurred";
    throw new ManualError(502, "RemediationFailed", `amlguard could not complete the request: ${detail}`);
  } finally {
    await deps.inflight.end(requestKey);
  }
}
