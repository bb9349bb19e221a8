import type { EventGridEvent } from "@azure/functions";
import type { Alert, AlertSink } from "./alerts/alert.js";
import type { JsonObject } from "./arm/resource.js";
import { ArmClient } from "./azure/arm-client.js";
import { createEventGridHandler } from "./handlers/event-grid.js";
import { newInvocationContext } from "./handlers/local-context.js";
import type { PipelineSettings } from "./pipeline/settings.js";
import { join } from "node:path";
import { SmtpChannel, TeamsChannel } from "./alerts/channels.js";
import { AlertRouter } from "./alerts/router.js";
import { createOutboxHandler } from "./handlers/outbox.js";
import { silentLogger } from "./log.js";
import { openAlerting, openState, type Runtime } from "./runtime.js";
import { writeGallery } from "./sandbox/gallery.js";
import { SmtpSink, type ReceivedEmail } from "./sandbox/smtp-sink.js";
import { TeamsWorkflowsReceiver, type ReceivedCard } from "./sandbox/teams-receiver.js";
import { startAzuriteTables } from "./sandbox/azurite.js";
import type { SandboxPrincipal } from "./sandbox/events.js";
import { startSandbox, type RunningSandbox } from "./sandbox/index.js";
import { GraphClient } from "./azure/graph-client.js";
import { graphSource, scanEstate, type ScanResult } from "./scan.js";
import { approveExemption } from "./exemptions/approve.js";
import type { AuditRecord } from "./state/audit.js";

export const DEMO_BOT: SandboxPrincipal = { objectId: "0b07b07b-0000-4000-8000-000000000b07", appId: "a11a11a1-0000-4000-8000-0000000000a1", name: "amlguard (managed identity)", type: "ServicePrincipal" };
export const DEMO_USER: SandboxPrincipal = { objectId: "5e5e5e5e-1111-4000-8000-000000000005", name: "alice@contoso.example", type: "User" };
/** The security engineer holding AmlGuard.Exempt: the tag alice writes is a request; bob approves it. */
export const DEMO_APPROVER = { objectId: "5ec5ec00-2222-4000-8000-00000000005e", name: "bob@contoso.example", principalType: "User" };

/** The demo bot's modes: remediate what can be undone safely, alert on the rest (the deployed default is alert-only). */
export const DEMO_SETTINGS: PipelineSettings = {
  defaultMode: "alert",
  ruleModes: {
    "workspace-public-network-access": "remediate",
    "endpoint-public-network-access": "remediate",
    "registry-public-network-access": "remediate",
    "compute-node-public-ip": "remediate",
    "compute-public-ssh": "remediate",
  },
  dryRun: false,
  self: { objectId: DEMO_BOT.objectId, clientId: DEMO_BOT.appId },
  maxDeliveryAttempts: 30,
};

export interface DemoResult {
  armEndpoint: string;
  /** The Resource Graph scan of the estate before the user's changes (what the daily sweep sees). */
  scan: ScanResult;
  userActions: string[];
  eventsDelivered: number;
  audit: AuditRecord[];
  alerts: Alert[];
  /** What the sandbox's Teams Workflows receiver and SMTP sink received from the outbox. */
  received: { teamsCards: ReceivedCard[]; emails: ReceivedEmail[] };
  /** An HTML page rendering the received cards and emails. */
  galleryPath: string;
}

export interface DemoIo {
  progress(step: string): void;
}

/**
 * The whole bot on the embedded sandbox: scan the estate, then play a user's risky changes through ARM, deliver the
 * events ARM publishes to the real Event Grid handler (duplicates included), and return the audit trail.
 */
export async function runDemo(io: DemoIo, options: { keepServing?: (sandbox: RunningSandbox) => Promise<void>; galleryPath?: string } = {}): Promise<DemoResult> {
  const steps = 6;
  io.progress(`[1/${steps}] starting the Azure sandbox: ARM over HTTPS, Azurite (Table Storage), a Teams Workflows receiver, an SMTP sink`);
  const sandbox = await startSandbox();
  const [azurite, teams, smtp] = await Promise.all([startAzuriteTables(), new TeamsWorkflowsReceiver().start(), new SmtpSink().start()]);
  try {
    const arm = sandbox.arm;
    const botArm = new ArmClient({ endpoint: arm.endpoint, credential: arm.credential(DEMO_BOT), ca: arm.ca });
    const userArm = new ArmClient({ endpoint: arm.endpoint, credential: arm.credential(DEMO_USER), ca: arm.ca });
    const events: JsonObject[] = [];
    arm.onEvent((event) => events.push(event));

    io.progress(`[2/${steps}] scanning ${sandbox.subscriptionIds.length} subscriptions with one Resource Graph query`);
    const graph = new GraphClient({ endpoint: arm.endpoint, credential: arm.credential(DEMO_BOT), ca: arm.ca });
    const scan = await scanEstate(graphSource(graph, { subscriptions: sandbox.subscriptionIds }));

    io.progress(`[3/${steps}] ${DEMO_USER.name} makes risky changes through ARM`);
    const ids = demoIds(sandbox);
    const userActions: string[] = [];
    const act = async (label: string, fn: () => Promise<unknown>): Promise<void> => {
      await fn();
      userActions.push(label);
    };
    await act("opened workspace mlw-fraud-prod to the public internet (PATCH publicNetworkAccess Enabled)", () =>
      userArm.patch(ids.prodWorkspace, { properties: { publicNetworkAccess: "Enabled" } }),
    );
    await act("made online endpoint fraud-score public (PUT publicNetworkAccess Enabled)", async () => {
      const read = await userArm.get(ids.prodEndpoint);
      const body = structuredClone(read.resource);
      (body.properties as JsonObject).publicNetworkAccess = "Enabled";
      await userArm.put(ids.prodEndpoint, body, read.etag ? { ifMatch: read.etag } : {});
    });
    await act("started compute instance ci-bob (public SSH)", () => userArm.action(`${ids.devInstance}/start`));
    await act("scaled gpu-cluster (public node IPs) to 4 minimum nodes", () =>
      userArm.patch(ids.devCluster, { properties: { properties: { scaleSettings: { maxNodeCount: 8, minNodeCount: 4, nodeIdleTimeBeforeScaleDown: "PT30M" } } } }),
    );
    const nextMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await act(`tagged registry reg-shared-models amlguard-exempt until ${nextMonth} (partner onboarding)`, () =>
      userArm.patch(ids.registry, { tags: { "amlguard-exempt": `rules=registry-public-network-access; reason=partner onboarding CHG-4711; expires=${nextMonth}` } }),
    );

    io.progress(`[4/${steps}] delivering ARM's events to the Event Grid handler (with a duplicate, and the bot's own writes)`);
    const storage = { connectionString: azurite.connectionString };
    const state = await openState(storage);
    const channels = [
      new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca }),
      new SmtpChannel(smtp.url, "amlguard@contoso.example", ["ml-platform-security@contoso.example"], "high"),
    ];
    const alerting = await openAlerting(storage, channels, { dedupeWindowMs: 3_600_000, ttlMs: 24 * 3_600_000 });
    const router = new AlertRouter(channels, alerting.outbox, alerting.dedupe, silentLogger);
    const alerts: Alert[] = [];
    const sink: AlertSink = { send: async (alert) => void (alerts.push(alert), await router.send(alert)) };
    const runtime: Runtime = {
      arm: botArm,
      ...state,
      alerting,
      // The real router (dedupe, routing, outbox); the demo also keeps a copy to print.
      alerts: sink,
      settings: DEMO_SETTINGS,
      now: () => new Date(),
    };
    const handler = createEventGridHandler(async () => runtime);
    const deliver = (event: JsonObject): Promise<void> =>
      handler(event as unknown as EventGridEvent, newInvocationContext("resourceEvents"));
    await approveExemption(
      { resourceId: ids.registry, rules: ["registry-public-network-access"], reason: "partner onboarding CHG-4711", expires: nextMonth },
      DEMO_APPROVER,
      `cli:${DEMO_APPROVER.name}`,
      { store: state.exemptions, arm: botArm, audit: state.audit, alerts: sink, now: runtime.now, allowedSubscriptions: sandbox.subscriptionIds, maxDays: 90 },
    );
    userActions.push(`${DEMO_APPROVER.name} (AmlGuard.Exempt) approved the exemption for reg-shared-models until ${nextMonth}`);
    let delivered = 0;
    const userEvents = await settle(events, userActions.length - 1);
    for (const event of userEvents) {
      await deliver(event);
      delivered += 1;
    }
    await deliver(userEvents[0]!); // Event Grid delivers at least once: a duplicate
    delivered += 1;
    // The bot's own writes publish events too; they reach the handler like any other.
    for (const event of await settle(events, 1, 1500)) {
      await deliver(event);
      delivered += 1;
    }

    io.progress(`[5/${steps}] the outbox timer delivers the alerts to Teams and email`);
    await createOutboxHandler(async () => runtime)({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: new Date().toISOString() } }, newInvocationContext("alertOutbox"));
    const galleryPath = options.galleryPath ?? join(process.cwd(), ".amlguard", "demo-alerts.html");
    await writeGallery(galleryPath, teams.received, smtp.received, alerts);

    io.progress(`[6/${steps}] reading the audit trail`);
    const audit = await state.audit.list(new Date(Date.now() - 3600_000));
    const result: DemoResult = {
      armEndpoint: arm.endpoint,
      scan,
      userActions,
      eventsDelivered: delivered,
      audit,
      alerts,
      received: { teamsCards: [...teams.received], emails: [...smtp.received] },
      galleryPath,
    };
    if (options.keepServing) await options.keepServing(sandbox);
    return result;
  } finally {
    await Promise.all([sandbox.close(), azurite.close(), teams.close(), smtp.close()]);
  }
}

/** Waits for `min` events (ARM operations complete asynchronously), then a short quiet period for stragglers. */
async function settle(events: JsonObject[], min: number, quietMs = 300): Promise<JsonObject[]> {
  const deadline = Date.now() + 10_000;
  while (events.length < min && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  let count = -1;
  while (count !== events.length && Date.now() < deadline) {
    count = events.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
  return events.splice(0, events.length);
}

function demoIds(sandbox: RunningSandbox): Record<"prodWorkspace" | "prodEndpoint" | "devInstance" | "devCluster" | "registry", string> {
  const find = (suffix: string): string => {
    const resource = sandbox.scenario.resources.find((r) => r.id.toLowerCase().endsWith(suffix.toLowerCase()));
    if (!resource) throw new Error(`demo scenario has no resource ending in ${suffix}`);
    return resource.id;
  };
  return {
    prodWorkspace: find("/workspaces/mlw-fraud-prod"),
    prodEndpoint: find("/onlineEndpoints/fraud-score"),
    devInstance: find("/computes/ci-bob"),
    devCluster: find("/computes/gpu-cluster"),
    registry: find("/registries/reg-shared-models"),
  };
}
