import type { EventGridEvent, Timer } from "@azure/functions";
import { join } from "node:path";
import type { Alert, AlertSink } from "./alerts/alert.js";
import { SmtpChannel, TeamsChannel } from "./alerts/channels.js";
import type { Outbox, OutboxEntry } from "./alerts/outbox.js";
import { AlertRouter } from "./alerts/router.js";
import type { JsonObject } from "./arm/resource.js";
import { ArmClient } from "./azure/arm-client.js";
import { GraphClient } from "./azure/graph-client.js";
import { playUserChanges, type UserAction } from "./demo/actions.js";
import { DEDUPE_WINDOW_MS, DEMO_BOT, DEMO_CHANNELS, DEMO_SETTINGS } from "./demo/settings.js";
import { stageDemoState, writeEstate } from "./demo/state.js";
import type { StoryDelivery, SuppressedAlert } from "./demo/story.js";
import { createEventGridHandler } from "./handlers/event-grid.js";
import { newInvocationContext } from "./handlers/local-context.js";
import { createOutboxHandler } from "./handlers/outbox.js";
import { createSweepHandler } from "./handlers/sweep.js";
import { silentLogger } from "./log.js";
import { openAlerting, openState, type Runtime } from "./runtime.js";
import { startAzuriteTables, type RunningAzurite } from "./sandbox/azurite.js";
import { writeGallery } from "./sandbox/gallery.js";
import { startSandbox, type RunningSandbox } from "./sandbox/index.js";
import { SmtpSink, type ReceivedEmail } from "./sandbox/smtp-sink.js";
import { TeamsWorkflowsReceiver, type ReceivedCard } from "./sandbox/teams-receiver.js";
import { graphSource, scanEstate, type ScanResult } from "./scan.js";
import type { AuditRecord } from "./state/audit.js";

export { DEMO_APPROVER, DEMO_BOT, DEMO_SETTINGS, DEMO_USER } from "./demo/settings.js";
export type { UserAction } from "./demo/actions.js";

/** One delivery of an event to the Event Grid handler, why it was delivered, and the audit rows it wrote. */
export type Delivery = StoryDelivery;

export interface DemoResult {
  armEndpoint: string;
  /** The Resource Graph scan of the estate as found, before anything happened. */
  scan: ScanResult;
  userActions: UserAction[];
  deliveries: Delivery[];
  /** The correlation id of the daily sweep the demo ran (its audit rows carry it). */
  sweepCorrelationId?: string;
  /** Audit rows written by the demo, oldest first. */
  audit: AuditRecord[];
  /** Every alert the pipeline raised, and per channel those the dedupe window suppressed (the same alert within an hour). */
  alerts: Alert[];
  suppressed: SuppressedAlert[];
  /** The outbox after the demo: one entry per alert and channel it was queued for, with its delivery status. */
  outbox: OutboxEntry[];
  channels: typeof DEMO_CHANNELS;
  /** What the sandbox's Teams Workflows receiver and SMTP sink received from the outbox. */
  received: { teamsCards: ReceivedCard[]; emails: ReceivedEmail[] };
  /** An HTML page rendering the received cards and emails. */
  galleryPath: string;
  /** Where the demo's state is kept for `amlguard audit|alerts pending|scan --sandbox`. */
  stateDir: string;
}

/** Where the sandbox serves, for `demo --serve` (no key material: the caller prints how to get it). */
export interface DemoEndpoints {
  arm: { endpoint: string; ca: string; subscriptionIds: string[]; token: () => Promise<string> };
  azurite: Pick<RunningAzurite, "tableEndpoint" | "accountName">;
  teamsReceiver: string;
  smtp: string;
}

export interface DemoIo {
  progress(step: string): void;
}

export interface DemoOptions {
  /** Where `.amlguard/` goes (default: the current directory). */
  cwd?: string;
  galleryPath?: string;
  /** Called with the result before the sandbox closes (`--serve` keeps serving until it returns). */
  beforeClose?: (result: DemoResult, endpoints: DemoEndpoints) => Promise<void>;
}

export const DEMO_STEPS = 8;

/**
 * The whole bot on the embedded sandbox, as one story: the estate as found (Resource Graph), a user's risky changes
 * through ARM delivered to the real Event Grid handler (a redelivery and amlguard's own writes included), the outbox,
 * then the daily sweep through its real handler for what no event touched, the outbox again; the state is kept.
 */
export async function runDemo(io: DemoIo, options: DemoOptions = {}): Promise<DemoResult> {
  const cwd = options.cwd ?? process.cwd();
  const step = (n: number, text: string): void => io.progress(`[${n}/${DEMO_STEPS}] ${text}`);
  step(1, "starting the Azure sandbox: ARM over HTTPS, Azurite (Table Storage), a Teams Workflows receiver, an SMTP sink");
  const staged = await stageDemoState(cwd);
  let committed = false;
  const started = await Promise.allSettled([startSandbox(), startAzuriteTables({ dbPath: staged.tables }), new TeamsWorkflowsReceiver().start(), new SmtpSink().start()] as const);
  if (started.some((s) => s.status === "rejected")) {
    await Promise.allSettled(started.flatMap((s) => (s.status === "fulfilled" ? [s.value.close()] : [])));
    await staged.discard();
    throw (started.find((s) => s.status === "rejected") as PromiseRejectedResult).reason;
  }
  const [sandbox, azurite, teams, smtp] = started.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [RunningSandbox, RunningAzurite, TeamsWorkflowsReceiver, SmtpSink];
  try {
    const arm = sandbox.arm;
    const botArm = new ArmClient({ endpoint: arm.endpoint, credential: arm.credential(DEMO_BOT), ca: arm.ca });
    const events: JsonObject[] = [];
    arm.onEvent((event) => events.push(event));

    step(2, `scanning ${sandbox.subscriptionIds.length} subscriptions with one Resource Graph query: the estate as found`);
    const graph = new GraphClient({ endpoint: arm.endpoint, credential: arm.credential(DEMO_BOT), ca: arm.ca });
    const scan = await scanEstate(graphSource(graph, { subscriptions: sandbox.subscriptionIds }));

    const storage = { connectionString: azurite.connectionString };
    const state = await openState(storage);
    const [teamsMin, emailMin] = [DEMO_CHANNELS[0]!.minSeverity, DEMO_CHANNELS[1]!.minSeverity];
    const channels = [new TeamsChannel(teams.webhookUrl, teamsMin, { ca: teams.ca }), new SmtpChannel(smtp.url, "amlguard@contoso.example", ["ml-platform-security@contoso.example"], emailMin)];
    const alerting = await openAlerting(storage, channels, { dedupeWindowMs: DEDUPE_WINDOW_MS, ttlMs: 24 * 3_600_000 });
    const suppressed = countSuppressed(alerting.outbox);
    const router = new AlertRouter(channels, alerting.outbox, alerting.dedupe, silentLogger);
    const alerts: Alert[] = [];
    // The real router (dedupe, routing by severity, outbox); the demo keeps a copy of what was raised to account for it.
    const sink: AlertSink = { send: async (alert) => void (alerts.push(alert), await router.send(alert)) };
    const runtime: Runtime = {
      arm: botArm,
      ...state,
      alerting,
      alerts: sink,
      settings: DEMO_SETTINGS,
      sweep: { source: () => graphSource(graph, { subscriptions: sandbox.subscriptionIds }), options: { maxWritesPerSubscription: 100 } },
      now: () => new Date(),
    };

    step(3, "alice@contoso.example makes risky changes through ARM; bob@contoso.example approves an exemption");
    const userActions = await playUserChanges(sandbox, { state, alerts: sink, botArm });
    const userEvents = await waitForEvents(events, userActions.filter((a) => a.writes).length);

    step(4, "delivering ARM's events to the Event Grid handler (one delivered twice, as Event Grid may), then amlguard's own writes' events");
    const deliveries: Delivery[] = [];
    const handler = createEventGridHandler(async () => runtime);
    const since = new Date(Date.now() - 3_600_000);
    const rowKey = (r: AuditRecord): string => JSON.stringify(r);
    const deliver = async (event: JsonObject, cause: Delivery["cause"], phase: Delivery["phase"]): Promise<void> => {
      const before = new Set((await state.audit.list(since)).map(rowKey));
      await handler(event as unknown as EventGridEvent, newInvocationContext("resourceEvents"));
      // The rows this delivery wrote: how each delivery is accounted for in the story.
      const rows = (await state.audit.list(since)).filter((r) => !before.has(rowKey(r))).reverse();
      const data = (event.data ?? {}) as JsonObject;
      deliveries.push({ eventId: String(event.id), resourceId: String(data.resourceUri ?? event.subject ?? ""), cause, phase, rows });
    };
    for (const event of userEvents) await deliver(event, "user-change", "events");
    await deliver(userEvents[0]!, "redelivery", "events"); // Event Grid delivers at least once
    // amlguard's own writes publish events too; they reach the handler like any other.
    await deliverOwnWrites(state.audit, events, (event) => deliver(event, "own-write", "events"), new Set());

    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: new Date().toISOString() } };
    const outboxHandler = createOutboxHandler(async () => runtime);
    step(5, "the outbox timer delivers the alerts to Teams and email");
    await outboxHandler(timer, newInvocationContext("alertOutbox"));

    step(6, "the daily sweep (its real timer handler) reconciles what no event touched");
    const before = new Set((await state.audit.list(since)).map((r) => r.writeCorrelationId).filter(Boolean) as string[]);
    await createSweepHandler(async () => runtime)(timer, newInvocationContext("sweep"));
    await deliverOwnWrites(state.audit, events, (event) => deliver(event, "own-write", "sweep"), before);

    step(7, "the outbox timer delivers the sweep's alerts; the mail relay is busy this round (421), so email waits for a retry");
    smtp.refuseConnections = 1; // an outage of one attempt: what `amlguard alerts pending` is for
    await outboxHandler(timer, newInvocationContext("alertOutbox"));
    const galleryPath = options.galleryPath ?? join(cwd, ".amlguard", "demo-alerts.html");
    await writeGallery(galleryPath, teams.received, smtp.received, alerts);

    step(8, "reading the audit trail and the outbox; keeping the state in .amlguard/sandbox");
    const audit = (await state.audit.list(since)).reverse();
    const result: DemoResult = {
      armEndpoint: arm.endpoint,
      scan,
      userActions,
      deliveries,
      ...sweepIdOf(audit),
      audit,
      alerts,
      suppressed,
      outbox: await alerting.outbox.all(),
      channels: DEMO_CHANNELS,
      received: { teamsCards: [...teams.received], emails: [...smtp.received] },
      galleryPath,
      stateDir: join(cwd, ".amlguard", "sandbox"),
    };
    if (options.beforeClose) await options.beforeClose(result, endpointsOf(sandbox, azurite, teams, smtp));
    await writeEstate(staged.estate, sandbox);
    await Promise.all([sandbox.close(), azurite.close(), teams.close(), smtp.close()]);
    await staged.commit();
    committed = true;
    return result;
  } finally {
    if (!committed) {
      await Promise.allSettled([sandbox.close(), azurite.close(), teams.close(), smtp.close()]);
      await staged.discard();
    }
  }
}

/**
 * What the dedupe window suppressed, per channel, so the story's alert counts add up: the dedupe mark and the queued
 * alert are one Table transaction (Outbox.enqueue), so a suppression is an enqueue that queued nothing. The demo
 * wraps that one method of its own outbox; the router and the outbox are the real ones.
 */
function countSuppressed(outbox: Outbox): SuppressedAlert[] {
  const suppressed: SuppressedAlert[] = [];
  const enqueue = outbox.enqueue.bind(outbox);
  outbox.enqueue = async (channel, alert, dedupe) => {
    const queued = await enqueue(channel, alert, dedupe);
    if (!queued) suppressed.push({ channel, alert });
    return queued;
  };
  return suppressed;
}

/**
 * Delivers the events of amlguard's writes not yet delivered: one per write the audit trail records (its
 * write correlation id), plus any other event ARM published meanwhile (a stop action's).
 */
async function deliverOwnWrites(audit: Runtime["audit"], events: JsonObject[], deliver: (event: JsonObject) => Promise<void>, seen: Set<string>): Promise<void> {
  const writes = (await audit.list(new Date(Date.now() - 3_600_000))).filter((r) => r.writeCorrelationId && !seen.has(r.writeCorrelationId));
  const count = new Set(writes.map((r) => r.writeCorrelationId)).size;
  for (const event of await waitForEvents(events, count)) await deliver(event);
}

/**
 * Waits until ARM has published `count` events (operations complete asynchronously), then takes every event published
 * so far. The deadline is a hang guard, not a timing assumption: every write the demo waits for does complete.
 */
async function waitForEvents(events: JsonObject[], count: number): Promise<JsonObject[]> {
  const deadline = Date.now() + 60_000;
  while (events.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return events.splice(0, events.length);
}

function sweepIdOf(audit: readonly AuditRecord[]): { sweepCorrelationId?: string } {
  const swept = audit.find((r) => r.decision === "swept");
  return swept?.correlationId ? { sweepCorrelationId: swept.correlationId } : {};
}

function endpointsOf(sandbox: RunningSandbox, azurite: RunningAzurite, teams: TeamsWorkflowsReceiver, smtp: SmtpSink): DemoEndpoints {
  const credential = sandbox.arm.credential();
  return {
    arm: { endpoint: sandbox.arm.endpoint, ca: sandbox.arm.ca, subscriptionIds: sandbox.subscriptionIds, token: async () => (await credential.getToken("https://management.azure.com/.default"))!.token },
    azurite: { tableEndpoint: azurite.tableEndpoint, accountName: azurite.accountName },
    // The webhook URL's query carries its signature (a secret in Azure): only the path is shown.
    teamsReceiver: teams.webhookUrl.split("?")[0]!,
    smtp: smtp.url,
  };
}
