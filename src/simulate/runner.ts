import { readFile } from "node:fs/promises";
import type { EventGridEvent, Timer } from "@azure/functions";
import type { ArmResource } from "../arm/resource.js";
import { describeError } from "../errors.js";
import { approveExemptionSchema, approveExemption, DEFAULT_EXEMPTION_MAX_DAYS, revokeExemption, type ExemptionDeps } from "../exemptions/approve.js";
import { inForce } from "../exemptions/store.js";
import { createEventGridHandler } from "../handlers/event-grid.js";
import { createHttpHandlers } from "../handlers/http.js";
import { newInvocationContext } from "../handlers/local-context.js";
import { createOutboxHandler } from "../handlers/outbox.js";
import { createSweepHandler } from "../handlers/sweep.js";
import { ManualError } from "../manual/remediate.js";
import { depsFor } from "../runtime.js";
import type { RequestRecord } from "../sandbox/index.js";
import { silentLogger } from "../log.js";
import { ArmStepClient, type ArmStepResult } from "./arm-step.js";
import { parseDuration, ScenarioClock } from "./clock.js";
import { validatorFor } from "../auth/entra-token.js";
import type { JobSubmission } from "../sandbox/arm/nodes.js";
import { callerCredentials, callHttp, type HttpResult, type SimPrincipal } from "./http.js";
import { parseScenario, ScenarioError, type Scenario, type Step } from "./schema.js";
import { checkSettings, finalResources, SIMULATED_API_AUDIENCE, startWorld, toSandbox, type World } from "./world.js";

export interface StepReport {
  step: number;
  kind: Step["kind"];
  as?: string;
  note?: string;
  /** ARM's answer to the step's own request (arm steps). */
  arm?: ArmStepResult;
  http?: HttpResult;
  /** The core's answer to an approval or revocation (exemptions steps). */
  exemption?: HttpResult;
  /** What the cluster did with a submitted job (job steps): nodes started, granted, queued. */
  job?: JobSubmission;
  decisions: Array<{ resourceId: string | null; ruleId: string | null; decision: string; message: string }>;
  /** amlguard's own ARM writes during the step, as the sandbox received them. */
  writes: Array<{ method: string; id: string; status: number }>;
  /** What the outbox delivered to people during the step. */
  alerts: Array<{ resourceId: string; ruleId: string | null; outcome: string; severity: string; title: string; evidence: string | null; actor: string | null; links?: Array<{ title: string; url: string }> }>;
  /** Proposals amlguard made during the step (mode approve, exemption requests), in order: `{proposal:N}` counts them. */
  proposals?: string[];
  /** Event Grid deliveries to the handler (bot's own write events included). */
  eventsDelivered: number;
  /** Deliveries that still failed after Event Grid's retries here, one line each. */
  errors: string[];
}

export interface SimulationResult {
  description: string;
  startedAt: string;
  steps: StepReport[];
  resources: Record<string, ArmResource | null>;
}

/** Rounds of event delivery per step before the harness says amlguard is in a write loop. */
const MAX_ROUNDS = 10;
/** Deliveries of one event, as Event Grid retries a handler that throws (bounded here by count). */
const MAX_ATTEMPTS = 3;
const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

/** Reads and validates a scenario file; a bad one is a ScenarioError naming the place (exit 2). */
export async function readScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new ScenarioError(`cannot read scenario file ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`bad scenario: ${path} is not valid JSON (${(error as Error).message.split("\n")[0]})`);
  }
  return parseScenario(json);
}

/**
 * Plays a scenario through amlguard's real handlers on the embedded sandbox: each step, then every event ARM published
 * for it (amlguard's own writes' events too) to the Event Grid handler, then the outbox timer, before the next step.
 */
export async function simulate(path: string, onStep: (step: number, total: number, label: string) => void = () => undefined): Promise<SimulationResult> {
  const scenario = await readScenario(path);
  checkSettings(scenario);
  const clock = new ScenarioClock(scenario.now ? new Date(scenario.now) : new Date());
  const startedAt = clock.now().toISOString();
  const world = await startWorld(scenario, path, clock);
  try {
    const handlers = {
      event: createEventGridHandler(async () => world.runtime),
      http: createHttpHandlers(async () => world.runtime, () => world.config.http, () => (world.config.auth ? validatorFor(world.config.auth, { ca: world.sandbox.arm.ca }) : undefined)),
      sweep: createSweepHandler(async () => world.runtime),
      outbox: createOutboxHandler(async () => world.runtime),
    };
    const armSteps = new ArmStepClient(world.sandbox.arm);
    const ownRequests = new Set<RequestRecord>();
    /** A scenario request: its ARM calls are the scenario's, never counted as amlguard's writes. */
    const asScenario = async <T>(fn: () => Promise<T>): Promise<T> => {
      const from = world.sandbox.arm.requests.length;
      try {
        return await fn();
      } finally {
        for (const record of world.sandbox.arm.requests.slice(from)) ownRequests.add(record);
      }
    };
    const reports: StepReport[] = [];
    const proposalIds: string[] = [];
    for (const [index, step] of scenario.steps.entries()) {
      onStep(index + 1, scenario.steps.length, step.kind);
      const auditFrom = world.audit.recorded.length;
      const requestsFrom = world.sandbox.arm.requests.length;
      const report: StepReport = {
        step: index + 1,
        kind: step.kind,
        ...("as" in step && step.as ? { as: step.as } : {}),
        ...(step.note ? { note: step.note } : {}),
        decisions: [],
        writes: [],
        alerts: [],
        eventsDelivered: 0,
        errors: [],
      };
      switch (step.kind) {
        case "arm": {
          const principal = toSandbox(world.principals.get(step.as)!);
          if (step.beforeAmlguardWrites) {
            const key = step.arm.id.toLowerCase();
            const queue = world.bot.beforeWrite.get(key) ?? [];
            queue.push(async () => void (await asScenario(() => armSteps.apply(principal, step.arm))));
            world.bot.beforeWrite.set(key, queue);
            report.arm = { status: 0, operation: "InProgress" };
          } else {
            report.arm = await asScenario(() => armSteps.apply(principal, step.arm));
          }
          break;
        }
        case "http":
          report.http = await callHttp(handlers.http, { ...step.http, path: withProposalIds(step.http.path, proposalIds, index + 1) }, step.as ? world.principals.get(step.as) : undefined, callerCredentials(world.sandbox.arm.authority, SIMULATED_API_AUDIENCE));
          break;
        case "exemptions":
          report.exemption = await exemptionStep(world, step, world.principals.get(step.as)!);
          break;
        case "sweep":
          await handlers.sweep(TIMER, newInvocationContext("sweep"));
          break;
        case "advance":
          clock.advance(parseDuration(step.advance)!);
          break;
        case "fault": {
          const { kind, method, path: pattern, times, answeredId } = step.fault;
          world.sandbox.arm.faults.add({ kind, path: new RegExp(pattern, "i"), ...(method ? { method } : {}), ...(times ? { times } : {}), ...(answeredId ? { answeredId } : {}) });
          break;
        }
        case "job":
          report.job = world.sandbox.arm.submitJob(step.job.computeId, step.job.nodes);
          break;
      }
      await deliverEvents(world, handlers.event, report);
      await handlers.outbox(TIMER, newInvocationContext("alertOutbox"));
      report.decisions = world.audit.recorded.slice(auditFrom).map((e) => ({ resourceId: e.resourceId ?? null, ruleId: e.ruleId ?? null, decision: e.decision, message: e.message }));
      report.writes = world.sandbox.arm.requests
        .slice(requestsFrom)
        .filter((r) => isWrite(r) && r.principalId === world.self.objectId && !ownRequests.has(r))
        .map((r) => ({ method: r.method, id: r.path, status: r.status }));
      report.alerts = world.channel.delivered.splice(0).map((a) => ({ resourceId: a.resourceId, ruleId: a.ruleId ?? null, outcome: a.outcome, severity: a.severity, title: a.title, evidence: a.evidence ?? null, actor: a.actor?.name ?? null, ...(a.links?.length ? { links: a.links } : {}) }));
      const made = await newProposals(world, proposalIds);
      if (made.length) report.proposals = made;
      reports.push(report);
    }
    // A held-back write that never found amlguard writing to its id showed nothing: say so rather than pass quietly.
    for (const id of world.bot.beforeWrite.keys()) reports.at(-1)!.errors.push(`a held-back write to ${id} never landed: amlguard made no write to that id`);
    return { description: scenario.description, startedAt, steps: reports, resources: finalResources(world, scenario) };
  } finally {
    await world.close();
  }
}

/** Proposals made since the last look, oldest first (the store's list is newest first; ids seen before are skipped). */
async function newProposals(world: World, seen: string[]): Promise<string[]> {
  const all = world.runtime.proposals ? await world.runtime.proposals.list() : [];
  const made = all.filter((p) => !seen.includes(p.id)).reverse().map((p) => p.id);
  seen.push(...made);
  return made;
}

/** `{proposal}` is the newest proposal made so far, `{proposal:N}` the Nth; a step naming one not yet made is a bad scenario. */
function withProposalIds(path: string, ids: readonly string[], step: number): string {
  return path.replace(/\{proposal(?::(\d+))?\}/g, (_, n: string | undefined) => {
    const id = n === undefined ? ids.at(-1) : ids[Number(n) - 1];
    if (!id) throw new ScenarioError(`bad scenario: step ${step}: ${n === undefined ? "no proposal has been made yet" : `proposal ${n} has not been made (${ids.length} so far)`}`);
    return id;
  });
}

function isWrite(record: RequestRecord): boolean {
  return record.method !== "GET" && !/\/providers\/Microsoft\.ResourceGraph\/resources$/i.test(record.path);
}

/** Delivers what ARM published, round after round (amlguard's own writes publish too), with Event Grid's retries. */
async function deliverEvents(world: World, handler: (event: EventGridEvent, context: ReturnType<typeof newInvocationContext>) => Promise<void>, report: StepReport): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS && world.events.length > 0; round += 1) {
    for (const event of world.events.splice(0)) {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
        report.eventsDelivered += 1;
        try {
          await handler(event as unknown as EventGridEvent, newInvocationContext("resourceEvents"));
          break;
        } catch (error) {
          if (attempt === MAX_ATTEMPTS) report.errors.push(`event ${String(event.id)} failed ${MAX_ATTEMPTS} deliveries: ${describeError(error)}`);
        }
      }
    }
  }
  if (world.events.length > 0) report.errors.push(`events were still being published after ${MAX_ROUNDS} rounds of delivery: amlguard may be in a write loop`);
  world.events.length = 0;
}

/** What `amlguard exemptions approve|revoke` does, as the step's principal: the core, with its four-eyes check. */
async function exemptionStep(world: World, step: Extract<Step, { kind: "exemptions" }>, principal: SimPrincipal): Promise<HttpResult> {
  const { runtime, config } = world;
  const deps: ExemptionDeps = {
    store: runtime.exemptions,
    arm: runtime.arm,
    audit: runtime.audit,
    alerts: depsFor(runtime, silentLogger).alerts,
    now: runtime.now,
    allowedSubscriptions: config.subscriptionIds,
    maxDays: DEFAULT_EXEMPTION_MAX_DAYS,
    ...(runtime.proposals ? { proposals: runtime.proposals } : {}),
  };
  const actor = { objectId: principal.objectId, name: principal.name, principalType: principal.type, ...(principal.appId ? { appId: principal.appId } : {}) };
  const trigger = `simulate:${principal.name}`;
  try {
    if ("approve" in step.exemptions) {
      const request = approveExemptionSchema.safeParse(step.exemptions.approve);
      if (!request.success) return { status: 400, body: { error: { code: "InvalidRequest", message: request.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ") } } };
      return { status: 200, body: await approveExemption(request.data, actor, trigger, deps) };
    }
    const inEffect = (await runtime.exemptions.forResource(step.exemptions.revoke.resourceId)).filter((e) => inForce(e, runtime.now()));
    if (inEffect.length === 0) return { status: 404, body: { error: { code: "ExemptionNotFound", message: "no exemption is in force for that resource" } } };
    const revoked = [];
    for (const exemption of inEffect) revoked.push(await revokeExemption(exemption.id, actor, trigger, deps));
    return { status: 200, body: revoked };
  } catch (error) {
    if (error instanceof ManualError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
    throw error;
  }
}
