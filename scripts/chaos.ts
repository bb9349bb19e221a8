/**
 * npm run chaos [-- --events N --instances K --json]: a bounded chaos run on loopback. N events (80% about ML
 * resources, 20% irrelevant), each delivered 3 times, shuffled, to K handler instances at once (an Event Grid retry
 * for every throw), while the sandbox injects 429s, 5xx, dropped connections and failed long-running operations and
 * the Teams receiver and SMTP sink refuse the first deliveries. Then it checks: every relevant event accounted for
 * once in the audit trail, no write twice, no alert twice, every alert delivered after recovery, no unhandled
 * rejection.
 *
 * Nothing in it is defined by wall-clock time, so a busy machine changes how long it takes, never what it checks:
 * the channel outage is the first `channelOutageAttempts` delivery attempts of each channel; Event Grid's redelivery
 * backoff is counted in deliveries; the outbox timer ticks every `dispatchEveryDeliveries` deliveries on a clock of
 * its own (each tick is one timer period) and, after the events, runs until every alert is delivered; the run is
 * bounded by a delivery budget. Only the CLI's optional --time-limit-ms reads the wall clock.
 */
import { randomBytes } from "node:crypto";
import type { EventGridEvent } from "@azure/functions";
import { SmtpChannel, TeamsChannel } from "../src/alerts/channels.js";
import { Outbox } from "../src/alerts/outbox.js";
import { AlertDedupe } from "../src/alerts/dedupe.js";
import { AlertRouter } from "../src/alerts/router.js";
import type { ArmResource, JsonObject } from "../src/arm/resource.js";
import { ArmClient } from "../src/azure/arm-client.js";
import { DEMO_BOT } from "../src/demo.js";
import { createEventGridHandler } from "../src/handlers/event-grid.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import { silentLogger } from "../src/log.js";
import type { PipelineSettings } from "../src/pipeline/settings.js";
import { openState, type Runtime } from "../src/runtime.js";
import { seededRandom } from "../src/random.js";
import { ArmSandbox } from "../src/sandbox/arm-server.js";
import { startAzuriteTables } from "../src/sandbox/azurite.js";
import { resourceEvent } from "../src/sandbox/events.js";
import { SmtpSink } from "../src/sandbox/smtp-sink.js";
import { TeamsWorkflowsReceiver } from "../src/sandbox/teams-receiver.js";
import { DeliveryQueue, TickedTimer } from "./chaos-delivery.js";
import { openTable, tableNames } from "../src/state/tables.js";

export interface ChaosOptions {
  events: number;
  instances: number;
  duplicates: number;
  concurrencyPerInstance: number;
  /** Teams and SMTP refuse this many delivery attempts each (503 / 421) before they accept. */
  channelOutageAttempts: number;
  maxDeliveryAttempts: number;
  /** The outbox timer ticks once per this many deliveries (default 100). */
  dispatchEveryDeliveries?: number;
  /** Deliveries after which the run stops and fails (default: every copy of every event at every attempt, twice). */
  deliveryBudget?: number;
  /** CLI only: a wall-clock bound for a run on a real machine; tests leave it out. */
  timeLimitMs?: number;
  seed: number;
  progress?: (text: string) => void;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, "progress">;
  seconds: number;
  deliveries: number;
  redeliveries: number;
  relevantEvents: number;
  faultsFired: Record<string, number>;
  channelFaultsFired: number;
  smtpRefusals: number;
  outboxRounds: number;
  decisions: Record<string, number>;
  unaccountedEvents: number;
  doubleAccountedEvents: number;
  duplicateWrites: number;
  succeededWrites: number;
  alertsQueued: number;
  alertsDelivered: number;
  duplicateAlerts: number;
  undeliveredAlerts: number;
  unhandledRejections: number;
  peakRssMiB: number;
  failedChecks: string[];
}

const SUB = "3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11";
const USER = { objectId: "5e5e5e5e-1111-4000-8000-000000000005", name: "chaos-user", type: "User" as const };
const SETTINGS = (maxDeliveryAttempts: number): PipelineSettings => ({
  defaultMode: "remediate",
  ruleModes: {},
  dryRun: false,
  self: { objectId: DEMO_BOT.objectId, clientId: DEMO_BOT.appId },
  maxDeliveryAttempts,
});
/** The outbox timer's period (AMLGUARD_OUTBOX_SCHEDULE's default): one tick of the outbox's own clock. */
const OUTBOX_TIMER_MS = 60_000;
/** Rounds the outbox gets after the events to deliver what is left: far more than the backoff needs. */
const MAX_DRAIN_ROUNDS = 500;

/** Workspaces: public (remediate), private, public but exempt, private with a public endpoint (remediate by PUT). */
function estate(count: number): { resources: ArmResource[]; targets: string[] } {
  const resources: ArmResource[] = [];
  const targets: string[] = [];
  const nextMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  for (let i = 0; i < count; i++) {
    const id = `/subscriptions/${SUB}/resourceGroups/rg-chaos/providers/Microsoft.MachineLearningServices/workspaces/ws-${i}`;
    const open = i % 4 === 0 || i % 4 === 2;
    resources.push({
      id,
      type: "",
      location: "westeurope",
      ...(i % 4 === 2 ? { tags: { "amlguard-exempt": `rules=*; reason=chaos exemption; expires=${nextMonth}` } } : {}),
      properties: { publicNetworkAccess: open ? "Enabled" : "Disabled", managedNetwork: { isolationMode: "AllowOnlyApprovedOutbound" }, encryption: { status: "Enabled" } },
    });
    targets.push(id);
    if (i % 4 === 3) {
      const endpoint = `${id}/onlineEndpoints/ep`;
      resources.push({ id: endpoint, type: "", location: "westeurope", kind: "Managed", properties: { authMode: "AADToken", publicNetworkAccess: "Enabled", traffic: {} } });
      targets.push(endpoint);
    }
  }
  return { resources, targets };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const say = options.progress ?? (() => undefined);
  const random = seededRandom(options.seed);
  let unhandledRejections = 0;
  const onRejection = (): void => void (unhandledRejections += 1);
  process.on("unhandledRejection", onRejection);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const started = Date.now();

  const sandbox = await new ArmSandbox({ operationDurationMs: 20 }).start();
  const [azurite, teams, smtp] = await Promise.all([startAzuriteTables(), new TeamsWorkflowsReceiver().start(), new SmtpSink().start()]);
  try {
    sandbox.faults.random = random;
    const { resources, targets } = estate(Math.max(8, Math.floor(options.events / 8)));
    sandbox.seed(resources);
    // Faults ARM shows under load: throttling (Retry-After 0 keeps the run short), 5xx, resets, failed operations.
    sandbox.faults.add({ kind: "throttle", probability: 0.03, retryAfterSeconds: 0 });
    sandbox.faults.add({ kind: "server-error", probability: 0.02, statusCode: 503 });
    sandbox.faults.add({ kind: "drop", probability: 0.01 });
    for (const method of ["PATCH", "PUT"]) sandbox.faults.add({ kind: "lro-failure", method, probability: 0.05 });
    // The channels' outage: each refuses its first attempts, however long a busy machine takes to make them.
    teams.faults.add({ kind: "server-error", statusCode: 503, times: options.channelOutageAttempts });
    smtp.refuseConnections = options.channelOutageAttempts;

    const storage = { connectionString: azurite.connectionString };
    const prefix = `c${randomBytes(4).toString("hex")}`;
    const state = await openState(storage, prefix);
    const channels = [new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca }), new SmtpChannel(smtp.url, "amlguard@contoso.example", ["secops@contoso.example"], "low")];
    // The outbox on a clock of its own, advanced one timer period per dispatch round: its backoff (30 s doubling, up
    // to 15 min) and TTL (24 h) play out in rounds, not in the seconds a loaded machine happens to need.
    const outboxClock = { now: Date.now() };
    const names = tableNames(prefix);
    const alerting = {
      outbox: new Outbox(await openTable(storage, names.outbox), { ttlMs: 24 * 3_600_000, now: () => outboxClock.now }),
      dedupe: new AlertDedupe(24 * 3_600_000),
    };
    let outboxRounds = 0;
    const dispatchRound = async (): Promise<void> => {
      await alerting.outbox.dispatch(channels, silentLogger);
      outboxClock.now += OUTBOX_TIMER_MS;
      outboxRounds += 1;
    };
    // Several instances: each its own ARM client and handler, all sharing Table Storage, as Function App instances do.
    const handlers = Array.from({ length: options.instances }, () => {
      const runtime: Runtime = {
        arm: new ArmClient({ endpoint: sandbox.endpoint, credential: sandbox.credential(DEMO_BOT), ca: sandbox.ca, maxRetries: 3 }),
        ...state,
        alerts: new AlertRouter(channels, alerting.outbox, alerting.dedupe, silentLogger),
        settings: SETTINGS(options.maxDeliveryAttempts),
        now: () => new Date(),
      };
      return createEventGridHandler(async () => runtime);
    });

    // The events: writes by a user to ML resources, and some that are not ML at all.
    const unique: JsonObject[] = [];
    const relevant = new Set<string>();
    for (let i = 0; i < options.events; i++) {
      if (random() < 0.8) {
        const target = targets[Math.floor(random() * targets.length)]!;
        const operation = target.includes("/onlineEndpoints/") ? "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write" : "Microsoft.MachineLearningServices/workspaces/write";
        const event = resourceEvent({ eventType: "Microsoft.Resources.ResourceWriteSuccess", resourceUri: target, operationName: operation, principal: USER, method: "PUT", url: `https://management.azure.com${target}` });
        relevant.add(event.id as string);
        unique.push(event);
      } else {
        const uri = `/subscriptions/${SUB}/resourceGroups/rg-chaos/providers/Microsoft.Storage/storageAccounts/st${i}`;
        unique.push(resourceEvent({ eventType: "Microsoft.Resources.ResourceWriteSuccess", resourceUri: uri, operationName: "Microsoft.Storage/storageAccounts/write", principal: USER, method: "PUT", url: uri }));
      }
    }
    // Event Grid, at least once: every event three times, shuffled; ARM's events for the bot's own writes come back
    // too, duplicated and shuffled like the rest. The outbox timer keeps running through the outage, one tick per so
    // many deliveries: alerts wait, with backoff, and are never lost.
    const outboxTimer = new TickedTimer(dispatchRound);
    const dispatchEvery = options.dispatchEveryDeliveries ?? 100;
    const queue = new DeliveryQueue({
      duplicates: options.duplicates,
      maxDeliveryAttempts: options.maxDeliveryAttempts,
      random,
      onDelivery: (count) => {
        if (count % dispatchEvery === 0) outboxTimer.tick();
        if (count % 2000 === 0) say(`chaos: ${count} deliveries, ${queue.queued} queued`);
      },
    });
    queue.enqueue(unique);
    sandbox.onEvent((event) => queue.enqueue([event]));
    const budget = options.deliveryBudget ?? 2 * 2 * options.events * options.duplicates * options.maxDeliveryAttempts;
    const keepGoing = (): boolean => queue.deliveries < budget && (options.timeLimitMs === undefined || Date.now() - started < options.timeLimitMs);
    const workers = handlers.flatMap((handler) =>
      Array.from({ length: options.concurrencyPerInstance }, () => queue.work((event) => handler(event as unknown as EventGridEvent, newInvocationContext("resourceEvents")), keepGoing)),
    );
    await Promise.all(workers);
    const drained = queue.drained;
    await outboxTimer.stop();
    // The timer goes on after the events until nothing is pending: each refused attempt is one round, each round
    // lets one timer period pass, so the outage is crossed by construction.
    for (let round = 0; round < MAX_DRAIN_ROUNDS && (await alerting.outbox.undelivered()).some((e) => e.status === "pending"); round++) await dispatchRound();
    say(`chaos: outbox ran ${outboxRounds} rounds; Teams refused ${teams.faults.fired["server-error"]}, SMTP ${smtp.refused}`);

    // Accounting.
    const audit = await state.audit.list(new Date(started - 60_000));
    const decisions: Record<string, number> = {};
    const perEvent = new Map<string, string[]>();
    for (const row of audit) {
      decisions[row.decision] = (decisions[row.decision] ?? 0) + 1;
      if (!row.eventId || !relevant.has(row.eventId) || row.decision === "duplicate") continue;
      perEvent.set(row.eventId, [...(perEvent.get(row.eventId) ?? []), `${row.ruleId ?? "-"}:${row.decision}`]);
    }
    const unaccounted = [...relevant].filter((id) => !perEvent.has(id));
    if (process.env.CHAOS_DEBUG) for (const id of unaccounted.slice(0, 3)) say(`unaccounted ${id}: ${JSON.stringify(audit.filter((r) => r.eventId === id).map((r) => [r.decision, r.ruleId, r.message, r.resourceId]))}`);
    const unaccountedEvents = unaccounted.length;
    const doubleAccountedEvents = [...perEvent.values()].filter((rows) => new Set(rows.map((r) => r.split(":")[0])).size !== rows.length).length;
    const writes = new Map<string, number>();
    for (const op of sandbox.completedOperations) {
      if (op.principalId !== DEMO_BOT.objectId || op.status !== "Succeeded") continue;
      writes.set(`${op.method} ${op.resourceId}`, (writes.get(`${op.method} ${op.resourceId}`) ?? 0) + 1);
    }
    const duplicateWrites = [...writes.values()].reduce((n, count) => n + count - 1, 0);
    const outbox = await alerting.outbox.all();
    const alertKeys = new Map<string, number>();
    for (const entry of outbox) {
      const key = `${entry.channel}|${entry.alert.resourceId}|${entry.alert.ruleId}|${entry.alert.outcome}|${entry.alert.evidence}`;
      alertKeys.set(key, (alertKeys.get(key) ?? 0) + 1);
    }
    const report: ChaosReport = {
      options: { ...options, progress: undefined } as Omit<ChaosOptions, "progress">,
      seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
      deliveries: queue.deliveries,
      redeliveries: queue.redeliveries,
      relevantEvents: relevant.size,
      faultsFired: { ...sandbox.faults.fired },
      channelFaultsFired: teams.faults.fired["server-error"],
      smtpRefusals: smtp.refused,
      outboxRounds,
      decisions,
      unaccountedEvents,
      doubleAccountedEvents,
      duplicateWrites,
      succeededWrites: [...writes.values()].reduce((a, b) => a + b, 0),
      alertsQueued: outbox.length,
      alertsDelivered: outbox.filter((e) => e.status === "delivered").length,
      duplicateAlerts: [...alertKeys.values()].reduce((n, count) => n + count - 1, 0),
      undeliveredAlerts: outbox.filter((e) => e.status !== "delivered").length,
      unhandledRejections,
      peakRssMiB: Math.round(peakRss / 2 ** 20),
      failedChecks: [],
    };
    const check = (ok: boolean, what: string): void => void (ok || report.failedChecks.push(what));
    check(drained && queue.deliveries <= budget, "finished within the delivery budget");
    if (options.timeLimitMs !== undefined) check(Date.now() - started < options.timeLimitMs, "finished within the time limit");
    check(report.unaccountedEvents === 0, "every relevant event is in the audit trail");
    check(report.doubleAccountedEvents === 0, "no event is accounted for twice");
    check(report.duplicateWrites === 0, "no resource written twice");
    check(report.duplicateAlerts === 0, "no alert queued twice");
    check(report.undeliveredAlerts === 0, "every alert delivered after recovery");
    check(report.unhandledRejections === 0, "no unhandled rejection");
    const outage = options.channelOutageAttempts;
    check(report.alertsDelivered > 0 && outage > 0 && report.channelFaultsFired === outage && report.smtpRefusals === outage, "alerts crossed a channel outage");
    return report;
  } finally {
    clearInterval(sampler);
    process.off("unhandledRejection", onRejection);
    await Promise.all([sandbox.close(), azurite.close(), teams.close(), smtp.close()]);
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop()!);
if (isMain) {
  const arg = (name: string, fallback: number): number => {
    const index = process.argv.indexOf(`--${name}`);
    return index > 0 ? Number(process.argv[index + 1]) : fallback;
  };
  const report = await runChaos({
    events: arg("events", 10_000),
    instances: arg("instances", 4),
    duplicates: 3,
    concurrencyPerInstance: arg("concurrency", 8),
    channelOutageAttempts: arg("outage-attempts", 5),
    maxDeliveryAttempts: 10,
    timeLimitMs: arg("time-limit-ms", 15 * 60_000),
    dispatchEveryDeliveries: arg("dispatch-every", 100),
    seed: arg("seed", 20261125),
    progress: (text) => void process.stderr.write(`${text}\n`),
  });
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const { failedChecks, ...figures } = report;
    for (const [name, value] of Object.entries(figures)) if (name !== "options") process.stdout.write(`${name.padEnd(22)} ${typeof value === "object" ? JSON.stringify(value) : value}\n`);
    process.stdout.write(failedChecks.length ? `FAILED: ${failedChecks.join("; ")}\n` : "all checks passed\n");
  }
  process.exitCode = report.failedChecks.length ? 1 : 0;
}
