import { z } from "zod";
import { parseMlResourceId } from "../arm/ids.js";
import { InputError } from "../inputs.js";
import { GUID_PATTERN } from "../shared/types.js";
import { parseDuration } from "./clock.js";
import { HTTP_ROUTES, routeFor } from "./http.js";

/**
 * The scenario format of `amlguard simulate` (README, "simulate"). Every error names where it is, in the file's
 * terms: "step 3: arm.method must be one of PUT, PATCH, POST, DELETE", "principals.dev1.objectId must be a GUID".
 */
export class ScenarioError extends InputError {}

const ARM_METHODS = ["PUT", "PATCH", "POST", "DELETE"] as const;
const HTTP_METHODS = ["GET", "POST", "DELETE"] as const;
const guid = z.string({ error: "must be a GUID" }).regex(GUID_PATTERN, "must be a GUID");
const name = z.string({ error: "must be a principal's name from principals" }).min(1, "must be a principal's name from principals");

const principalSchema = z.union(
  [
    z.strictObject({ self: z.literal(true), name: z.string().min(1).max(200).optional() }),
    z.strictObject({
      objectId: guid,
      name: z.string({ error: "must be a string" }).min(1).max(200),
      type: z.enum(["User", "ServicePrincipal"], { error: "must be User or ServicePrincipal" }).default("User"),
      appId: guid.optional(),
      roles: z.array(z.string().min(1).max(100)).max(50).default([]),
      groups: z.array(guid).max(50).default([]),
    }),
  ],
  { error: 'must be {"self": true} or {objectId, name, type, roles}' },
);

const armStep = z.strictObject({
  as: name,
  note: z.string().optional(),
  arm: z.strictObject({
    method: z.enum(ARM_METHODS, { error: `must be one of ${ARM_METHODS.join(", ")}` }),
    id: z.string({ error: "must be a resource id or an action/tags path" }).regex(/^\/subscriptions\/[^?#\s]+$/i, "must be a resource id or an action/tags path starting with /subscriptions/"),
    body: z.record(z.string(), z.unknown(), { error: "must be a JSON object" }).optional(),
    apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, "must be like 2025-09-01").optional(),
    ifMatch: z.string().min(1).optional(),
  }),
  /** Held back and applied just before amlguard's next write to the same id: a change between its read and its write. */
  beforeAmlguardWrites: z.literal(true, { error: "must be true when given" }).optional(),
});

const httpStep = z.strictObject({
  /** Absent: an anonymous caller. */
  as: name.optional(),
  note: z.string().optional(),
  http: z.strictObject({
    method: z.enum(HTTP_METHODS, { error: `must be one of ${HTTP_METHODS.join(", ")}` }),
    /** `{proposal}` stands for the newest proposal amlguard made so far in the run, `{proposal:N}` for the Nth. */
    path: z.string({ error: "must be a path like /api/remediate" }).regex(/^\/api\/([\w/-]|\{proposal(:\d{1,3})?\})+$/, "must be a path like /api/remediate (with {proposal} or {proposal:N} for a proposal's id)"),
    query: z.record(z.string(), z.string({ error: "values must be strings" })).optional(),
    body: z.unknown().optional(),
    /** valid: what the API accepts for that principal; header-only: a hand-made x-ms-client-principal and nothing else. */
    credential: z.enum(["valid", "header-only", "none"], { error: "must be valid, header-only or none" }).default("valid"),
    /** The Accept header: text/html is what a browser opening an alert's link sends. */
    accept: z.string().min(1).max(200).optional(),
  }),
});

const exemptionsStep = z.strictObject({
  as: name,
  note: z.string().optional(),
  exemptions: z.union(
    [
      z.strictObject({
        approve: z.strictObject({
          resourceId: z.string().min(1),
          rules: z.union([z.literal("*"), z.array(z.string().min(1)).min(1)]),
          reason: z.string(),
          expires: z.string(),
        }),
      }),
      z.strictObject({ revoke: z.strictObject({ resourceId: z.string().min(1) }) }),
    ],
    { error: 'must be {"approve": {resourceId, rules, reason, expires}} or {"revoke": {resourceId}}' },
  ),
});

const sweepStep = z.strictObject({ sweep: z.literal(true, { error: "must be true" }), note: z.string().optional() });
const advanceStep = z.strictObject({
  advance: z.string({ error: "must be an ISO 8601 duration like P30D or PT2H" }).refine((text) => parseDuration(text) !== undefined, "must be an ISO 8601 duration like P30D or PT2H"),
  note: z.string().optional(),
});

/** Azure misbehaving, through the sandbox's fault injector: what amlguard does when ARM answers oddly. */
const faultStep = z.strictObject({
  fault: z.strictObject({
    kind: z.enum(["foreign-id", "forbidden", "server-error", "throttle"], { error: "must be foreign-id, forbidden, server-error or throttle" }),
    method: z.enum(["GET", "PUT", "PATCH", "POST", "DELETE"], { error: "must be GET, PUT, PATCH, POST or DELETE" }).optional(),
    /** A case-insensitive regular expression over the request path. */
    path: z.string().min(1).refine((text) => { try { new RegExp(text, "i"); return true; } catch { return false; } }, "must be a regular expression"),
    times: z.number().int().min(1).max(1000).optional(),
    answeredId: z.string().min(1).optional(),
  }),
  note: z.string().optional(),
});

/** A job submitted to a cluster (a data-plane call: no ARM event), to show what a cap stops. */
const jobStep = z.strictObject({
  job: z.strictObject({ computeId: z.string().min(1), nodes: z.number().int().min(1).max(1000) }),
  note: z.string().optional(),
});

const STEP_KINDS = { arm: armStep, http: httpStep, exemptions: exemptionsStep, sweep: sweepStep, advance: advanceStep, fault: faultStep, job: jobStep } as const;
export type StepKind = keyof typeof STEP_KINDS;

export type ArmStep = z.infer<typeof armStep>;
export type HttpStep = z.infer<typeof httpStep>;
export type ExemptionsStep = z.infer<typeof exemptionsStep>;
export type Step =
  | ({ kind: "arm" } & ArmStep)
  | ({ kind: "http" } & HttpStep)
  | ({ kind: "exemptions" } & ExemptionsStep)
  | ({ kind: "sweep" } & z.infer<typeof sweepStep>)
  | ({ kind: "advance" } & z.infer<typeof advanceStep>)
  | ({ kind: "fault" } & z.infer<typeof faultStep>)
  | ({ kind: "job" } & z.infer<typeof jobStep>);
export type PrincipalSpec = z.infer<typeof principalSchema>;

const scenarioSchema = z.strictObject({
  description: z.string({ error: "is required: say what the scenario shows" }).min(1, "is required: say what the scenario shows"),
  /** The injected clock's start (ISO 8601 instant); absent: the time the run starts. */
  now: z.iso.datetime({ offset: true, error: "must be an ISO 8601 instant like 2026-03-02T09:00:00Z" }).optional(),
  /** App settings, as in the Function App: every value a string. */
  settings: z.record(z.string(), z.string({ error: "must be a string (app settings are strings)" })).default({}),
  principals: z.record(z.string().regex(/^[\w.@-]{1,64}$/, "names are letters, digits and . @ - _"), principalSchema).default({}),
  resourceGroups: z.array(z.strictObject({ subscriptionId: guid, name: z.string().min(1) })).default([]),
  resources: z.array(
    z.looseObject({
      id: z.string({ error: "must be the resource's ARM id" }).refine((id) => ok(() => parseMlResourceId(id)), "must be the id of a supported Microsoft.MachineLearningServices resource"),
    }),
  ),
  steps: z.array(z.unknown()).min(1, "must hold at least one step"),
});

export interface Scenario extends Omit<z.infer<typeof scenarioSchema>, "steps"> {
  steps: Step[];
}

/** Parses a scenario (already JSON-decoded); throws ScenarioError naming the first problems in the file's terms. */
export function parseScenario(json: unknown): Scenario {
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) throw new ScenarioError(`bad scenario: ${problems(parsed.error, [])}`);
  const { steps: rawSteps, ...rest } = parsed.data;
  const steps = rawSteps.map((raw, index) => parseStep(raw, index + 1));
  const scenario: Scenario = { ...rest, steps };
  for (const [index, step] of steps.entries()) {
    const where = `step ${index + 1}`;
    if ("as" in step && step.as !== undefined && !(step.as in scenario.principals)) {
      throw new ScenarioError(`bad scenario: ${where}: as '${step.as}' is not one of the principals (${Object.keys(scenario.principals).join(", ") || "none defined"})`);
    }
    if (step.kind === "http" && !routeFor(step.http.method, step.http.path)) {
      const served = HTTP_ROUTES.map((r) => `${r.method} ${r.path}`).join(", ");
      throw new ScenarioError(`bad scenario: ${where}: http ${step.http.method} ${step.http.path} is not served by amlguard's HTTP API (served: ${served})`);
    }
  }
  if (Object.values(scenario.principals).filter((p) => "self" in p).length > 1) throw new ScenarioError('bad scenario: principals: only one principal may be {"self": true}');
  return scenario;
}

function parseStep(raw: unknown, number: number): Step {
  const where = `step ${number}`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ScenarioError(`bad scenario: ${where}: must be an object`);
  const kinds = (Object.keys(STEP_KINDS) as StepKind[]).filter((kind) => kind in raw);
  if (kinds.length !== 1) {
    throw new ScenarioError(`bad scenario: ${where}: must have exactly one of ${Object.keys(STEP_KINDS).join(", ")}${kinds.length ? ` (has ${kinds.join(" and ")})` : ""}`);
  }
  const kind = kinds[0]!;
  const parsed = STEP_KINDS[kind].safeParse(raw);
  if (!parsed.success) throw new ScenarioError(`bad scenario: ${where}: ${problems(parsed.error, [])}`);
  return { kind, ...parsed.data } as Step;
}

function problems(error: z.ZodError, prefix: Array<string | number>): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = [...prefix, ...issue.path].map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
      if (issue.code === "unrecognized_keys") return `${path ? `${path}: ` : ""}unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
      const message = issue.code === "invalid_type" && /received undefined$/.test(issue.message) ? "is required" : issue.message;
      return path ? `${path} ${message}` : message;
    })
    .join("; ");
}

function ok(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}
