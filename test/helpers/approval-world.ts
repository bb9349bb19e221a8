import type { EventGridEvent, Timer } from "@azure/functions";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TeamsChannel } from "../../src/alerts/channels.js";
import { approvalPageConfigOf } from "../../src/approval-page/config.js";
import type { ArmResource } from "../../src/arm/resource.js";
import { validatorFor } from "../../src/auth/entra-token.js";
import { createApprovalPageHandlers } from "../../src/handlers/approval-page.js";
import { createEventGridHandler } from "../../src/handlers/event-grid.js";
import { createHttpHandlers } from "../../src/handlers/http.js";
import { newInvocationContext } from "../../src/handlers/local-context.js";
import { createOutboxHandler } from "../../src/handlers/outbox.js";
import { ProposalStore } from "../../src/proposals/store.js";
import type { SandboxPrincipal } from "../../src/sandbox/events.js";
import { TeamsWorkflowsReceiver } from "../../src/sandbox/teams-receiver.js";
import { ArmStepClient, type ArmStepResult } from "../../src/simulate/arm-step.js";
import { ScenarioClock } from "../../src/simulate/clock.js";
import type { Scenario } from "../../src/simulate/schema.js";
import { startWorld, type World } from "../../src/simulate/world.js";
import { openTable, tableNames } from "../../src/state/tables.js";
import { startFunctionsHost, type LocalFunctionsHost } from "./functions-host.js";

/** amlguard's API registration and the approval page's SPA registration in the sandbox tenant. */
export const API_CLIENT_ID = "6f1c3e55-0d57-4c55-9a5e-6b7a1c0d0a11";
export const SPA_CLIENT_ID = "3a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
export const SUBSCRIPTION = "00000000-1111-2222-3333-444444444444";
export const workspaceId = (name: string) => `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/${name}`;

/** Alice makes risky writes; Bob approves. Both hold AmlGuard.Remediate: Alice is refused for four eyes, not for a role. Bob may also approve exemptions. */
export const ALICE = { objectId: "a11ce000-1111-4000-8000-000000000001", name: "alice@contoso.example", type: "User" as const, roles: ["AmlGuard.Remediate"], groups: [] };
export const BOB = { objectId: "b0b0b0b0-2222-4000-8000-000000000002", name: "bob@contoso.example", type: "User" as const, roles: ["AmlGuard.Remediate", "AmlGuard.Exempt"], groups: [] };

const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

export interface ApprovalWorld {
  world: World;
  clock: ScenarioClock;
  host: LocalFunctionsHost;
  teams: TeamsWorkflowsReceiver;
  proposals: ProposalStore;
  /** A write through ARM as a principal; `deliver: false` keeps its events back (Event Grid has not delivered yet). */
  write(principal: SandboxPrincipal, id: string, body: unknown, options?: { deliver?: boolean }): Promise<ArmStepResult>;
  /** Delivers what ARM published (round after round) to the Event Grid handler, then runs the outbox timer once. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * amlguard's runtime on the sandbox, as `amlguard simulate` builds it (startWorld), in mode approve for
 * workspace-public-network-access, with a real Teams Workflows receiver, the proposals table, and the Function App's
 * browser-facing routes behind a local HTTPS host: GET/POST /api/proposals… and /api/approval-page/{file}. The
 * sandbox authority signs Alice and Bob in to the approval page's SPA registration.
 */
export async function startApprovalWorld(workspaceNames: string[], now = "2026-11-25T09:00:00Z"): Promise<ApprovalWorld> {
  let world: World | undefined;
  const running = (): World => {
    if (!world) throw new Error("the approval world is not started");
    return world;
  };
  const http = createHttpHandlers(
    async () => running().runtime,
    () => running().config.http,
    () => validatorFor(running().config.auth!, { ca: running().sandbox.arm.ca }),
    () => approvalPageConfigOf(running().config),
  );
  const page = createApprovalPageHandlers(() => approvalPageConfigOf(running().config));
  // The routes as functions/proposals.ts and functions/approval-page.ts register them.
  const host = await startFunctionsHost([
    { name: "proposals-get", methods: ["GET"], route: "proposals/{id}", handler: http.getProposal },
    { name: "proposals-approve", methods: ["POST"], route: "proposals/{id}/approve", handler: http.approveProposal },
    { name: "proposals-reject", methods: ["POST"], route: "proposals/{id}/reject", handler: http.rejectProposal },
    { name: "proposals-exempt", methods: ["POST"], route: "proposals/{id}/exempt", handler: http.exemptProposal },
    { name: "approvalPage", methods: ["GET"], route: "approval-page/{file}", handler: page.file },
  ]);
  const teams = await new TeamsWorkflowsReceiver().start();
  const folder = await mkdtemp(join(tmpdir(), "amlguard-approval-"));
  try {
    const fixture = JSON.parse(await readFile(join(import.meta.dirname, "..", "fixtures", "arm", "workspace-get.json"), "utf8")) as { responses: { 200: { body: ArmResource } } };
    const resources = workspaceNames.map((name) => {
      const example = structuredClone(fixture.responses[200].body);
      return { ...example, id: workspaceId(name), name, properties: { ...(example.properties as object), publicNetworkAccess: "Disabled" } };
    });
    const path = join(folder, "scenario.json");
    await writeFile(path, JSON.stringify({ description: "approval page end to end", resources }));
    const scenario: Scenario = {
      description: "approval page end to end",
      now,
      settings: {
        AMLGUARD_DEFAULT_MODE: "off",
        AMLGUARD_RULE_MODES: "workspace-public-network-access=approve",
        AMLGUARD_AUTH_AUDIENCE: API_CLIENT_ID,
        AMLGUARD_APPROVAL_CLIENT_ID: SPA_CLIENT_ID,
        AMLGUARD_PUBLIC_BASE_URL: host.origin,
      },
      principals: { alice: ALICE, bob: BOB, amlguard: { self: true } },
      resourceGroups: [],
      resources,
      steps: [],
    } as unknown as Scenario;
    const clock = new ScenarioClock(new Date(now));
    world = await startWorld(scenario, path, clock);
    const { runtime, config, sandbox } = world;
    const proposals = new ProposalStore(await openTable({ connectionString: (config.storage as { connectionString: string }).connectionString }, tableNames().proposals));
    runtime.proposals ??= proposals;
    // The real Teams channel instead of the simulation's recording one (the outbox keys deliveries by channel name).
    runtime.alerting!.channels.splice(0, runtime.alerting!.channels.length, new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca }));
    sandbox.arm.authority.browser.now = clock.nowMs;
    sandbox.arm.authority.browser
      .registerSpa({ clientId: SPA_CLIENT_ID, redirectUris: [`${host.origin}/api/approval-page/signed-in`] })
      .registerApi({ clientId: API_CLIENT_ID, identifierUri: `api://${API_CLIENT_ID}`, scopes: ["user_impersonation"] })
      .addAccount({ principal: ALICE, roles: ALICE.roles })
      .addAccount({ principal: BOB, roles: BOB.roles });

    const event = createEventGridHandler(async () => runtime);
    const outbox = createOutboxHandler(async () => runtime);
    const steps = new ArmStepClient(sandbox.arm);
    const held: typeof world.events = [];
    const active = world;
    const settle = async (): Promise<void> => {
      active.events.unshift(...held.splice(0));
      for (let round = 0; round < 10 && active.events.length > 0; round += 1) {
        for (const published of active.events.splice(0)) await event(published as unknown as EventGridEvent, newInvocationContext("resourceEvents"));
      }
      await outbox(TIMER, newInvocationContext("alertOutbox"));
    };
    return {
      world: active,
      clock,
      host,
      teams,
      proposals: runtime.proposals,
      write: async (principal, id, body, options = {}) => {
        const result = await steps.apply({ objectId: principal.objectId, name: principal.name, type: principal.type }, { method: "PATCH", id, body } as never);
        if (options.deliver === false) held.push(...active.events.splice(0));
        return result;
      },
      settle,
      close: async () => {
        await Promise.all([active.close(), host.close(), teams.close(), rm(folder, { recursive: true, force: true })]);
      },
    };
  } catch (error) {
    await Promise.all([world?.close(), host.close(), teams.close(), rm(folder, { recursive: true, force: true })]);
    throw error;
  }
}
