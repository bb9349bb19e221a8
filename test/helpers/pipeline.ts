import { randomBytes } from "node:crypto";
import type { EventGridEvent } from "@azure/functions";
import type { Alert } from "../../src/alerts/alert.js";
import type { ArmResource, JsonObject } from "../../src/arm/resource.js";
import { ArmClient } from "../../src/azure/arm-client.js";
import { createEventGridHandler } from "../../src/handlers/event-grid.js";
import { newInvocationContext } from "../../src/handlers/local-context.js";
import type { PipelineSettings } from "../../src/pipeline/settings.js";
import { openState, type Runtime } from "../../src/runtime.js";
import { ArmSandbox, type ArmSandboxOptions } from "../../src/sandbox/arm-server.js";
import type { SandboxPrincipal } from "../../src/sandbox/events.js";
import type { AuditRecord } from "../../src/state/audit.js";
import { startAzuriteTables, type RunningAzurite } from "../../src/sandbox/azurite.js";
import { afterAll, beforeAll } from "vitest";

export const BOT: SandboxPrincipal = { objectId: "0b07b07b-0000-4000-8000-000000000b07", appId: "a11a11a1-0000-4000-8000-0000000000a1", name: "amlguard", type: "ServicePrincipal" };
export const USER: SandboxPrincipal = { objectId: "5e5e5e5e-1111-4000-8000-000000000005", name: "alice@contoso.example", type: "User" };

export interface Harness {
  sandbox: ArmSandbox;
  /** ARM as the bot sees it. */
  arm: ArmClient;
  /** ARM as a user of the estate: their writes fire the events the bot reacts to. */
  userArm: ArmClient;
  runtime: Runtime;
  alerts: Alert[];
  logs: string[];
  /** Events the sandbox published since the last take(). */
  takeEvents(): JsonObject[];
  /** Delivers one event to the real Event Grid handler, with an @azure/functions InvocationContext. */
  deliver(event: unknown): Promise<void>;
  audit(): Promise<AuditRecord[]>;
  /** Write requests the bot made (Resource Graph queries are POSTs, but reads). */
  botWrites(): number;
  close(): Promise<void>;
}

export async function startHarness(
  connectionString: string,
  resources: ArmResource[],
  settings: Partial<PipelineSettings> = {},
  sandboxOptions: ArmSandboxOptions = {},
): Promise<Harness> {
  const sandbox = await new ArmSandbox({ operationDurationMs: 50, ...sandboxOptions }).start();
  sandbox.seed(resources);
  const events: JsonObject[] = [];
  sandbox.onEvent((event) => events.push(event));
  const arm = new ArmClient({ endpoint: sandbox.endpoint, credential: sandbox.credential(BOT), ca: sandbox.ca, maxRetries: 3 });
  const userArm = new ArmClient({ endpoint: sandbox.endpoint, credential: sandbox.credential(USER), ca: sandbox.ca });
  const state = await openState({ connectionString }, `t${randomBytes(5).toString("hex")}`);
  const alerts: Alert[] = [];
  const logs: string[] = [];
  const runtime: Runtime = {
    arm,
    ...state,
    alerts: { send: async (alert) => void alerts.push(alert) },
    settings: {
      defaultMode: "remediate",
      ruleModes: {},
      dryRun: false,
      self: { objectId: BOT.objectId, clientId: BOT.appId },
      maxDeliveryAttempts: 5,
      ...settings,
    },
    now: () => new Date(),
  };
  const handler = createEventGridHandler(async () => runtime);
  return {
    sandbox,
    arm,
    userArm,
    runtime,
    alerts,
    logs,
    takeEvents: () => events.splice(0, events.length),
    deliver: (event) =>
      handler(
        event as EventGridEvent,
        newInvocationContext("resourceEvents", (level, ...args) => void logs.push(`${level}: ${args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")}`)),
      ),
    audit: () => state.audit.list(new Date(Date.now() - 3600_000)),
    botWrites: () => sandbox.requests.filter((r) => r.method !== "GET" && r.principalId === BOT.objectId && !r.path.includes("/Microsoft.ResourceGraph/")).length,
    close: () => sandbox.close(),
  };
}

/**
 * Waits until the sandbox has published at least `count` events (operations finish asynchronously). It wakes on
 * each event rather than polling against a deadline, which a busy machine could miss: the test's timeout is the bound.
 */
export async function waitForEvents(harness: Harness, count: number): Promise<JsonObject[]> {
  const collected = harness.takeEvents();
  while (collected.length < count) {
    // The harness's own listener (registered first) has stored the event by the time this one fires.
    await new Promise<void>((resolve) => harness.sandbox.onEvent(() => resolve()));
    collected.push(...harness.takeEvents());
  }
  return collected;
}

/** One in-process Azurite for the test file (started before its first test, closed after its last). */
export function azuriteForFile(): { readonly connectionString: string } {
  let azurite: RunningAzurite | undefined;
  beforeAll(async () => {
    azurite = await startAzuriteTables();
  });
  afterAll(async () => {
    await azurite?.close();
  });
  return {
    get connectionString(): string {
      if (!azurite) throw new Error("Azurite is not started yet: use it inside a test");
      return azurite.connectionString;
    },
  };
}
