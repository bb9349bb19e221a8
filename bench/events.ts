/**
 * Event pipeline benchmark (npm run bench [-- --json] [-- --burst N] [-- --arm-latency-ms 50] [-- --storage-latency-ms 5]).
 *
 * ARM (the sandbox's latency fault) and Table Storage (a latency proxy in front of Azurite, both in a child process,
 * so the storage service's own work is not counted as amlguard's) are made as far away as they are in Azure, and the
 * production wiring handles the events: ledger, locks, exemptions, audit, and alerts through the router into the
 * outbox with their dedupe marks (a Teams channel; the outbox timer is not on the event path and does not run).
 * Per case it reports:
 * - throughput at 16 events at a time: eventsPerSecond (wall clock), eventsPerCpuSecond and cpuMsPerEvent (this
 *   process's CPU time, which a busy machine does not inflate: the figure for "events per second on one core"), ARM
 *   and Table Storage calls per event (by table and operation), concurrentP50Ms / concurrentP99Ms, sandboxMsPerEvent;
 * - one event at a time (what a single event waits): p50Ms, p99Ms, injectedMsPerEvent (the injected latency on the
 *   event's critical path: the time covered by at least one injected delay) and overheadRatio = p50Ms / injected.
 * Then the exposure window of a violating write: from the user's risky write taking effect (ARM publishes its event)
 * to amlguard's confirmed fix, and from the user's request. Event Grid's own delivery delay is not simulated.
 * Figures are ratios within one run.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import type { EventGridEvent } from "@azure/functions";
import { TeamsChannel } from "../src/alerts/channels.js";
import type { ArmResource, JsonObject } from "../src/arm/resource.js";
import { ArmClient } from "../src/azure/arm-client.js";
import { mapLimit } from "../src/concurrency.js";
import { DEMO_BOT, DEMO_SETTINGS } from "../src/demo.js";
import { createEventGridHandler } from "../src/handlers/event-grid.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import { openAlerting, openState, type Runtime } from "../src/runtime.js";
import { ArmSandbox } from "../src/sandbox/arm-server.js";
import { resourceEvent } from "../src/sandbox/events.js";
import { TeamsWorkflowsReceiver } from "../src/sandbox/teams-receiver.js";
import { tableNames } from "../src/state/tables.js";
import { exposureWindow } from "./exposure.js";
import { coveredMs, percentile, ratesBy, round, type Interval } from "./measure.js";
import { startStorageProcess } from "./storage-process.js";

const json = process.argv.includes("--json");
const option = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index > 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number of 0 or more`);
  return value;
};
const BURST = option("burst", 10_000);
const ARM_LATENCY_MS = option("arm-latency-ms", 50);
const STORAGE_LATENCY_MS = option("storage-latency-ms", 5);
const CONCURRENCY = 16;
const SUB = "3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11";
const USER = { objectId: "5e5e5e5e-1111-4000-8000-000000000005", name: "bench-user", type: "User" as const };
const progress = (text: string): void => void process.stderr.write(`${text}\n`);
/** Milliseconds on the clock both processes share (the storage process reports its calls on it). */
const clock = (): number => performance.timeOrigin + performance.now();

function workspace(name: string, publicNetworkAccess: "Enabled" | "Disabled"): ArmResource {
  return {
    id: `/subscriptions/${SUB}/resourceGroups/rg-bench/providers/Microsoft.MachineLearningServices/workspaces/${name}`,
    type: "Microsoft.MachineLearningServices/workspaces",
    location: "westeurope",
    // Every workspace rule passes but the one the case is about: outbound restricted, a customer-managed key, an
    // approved private endpoint, a primary user-assigned identity.
    properties: {
      publicNetworkAccess,
      managedNetwork: { isolationMode: "AllowOnlyApprovedOutbound" },
      encryption: { status: "Enabled" },
      privateEndpointConnections: [{ properties: { privateLinkServiceConnectionState: { status: "Approved" } } }],
      primaryUserAssignedIdentity: `/subscriptions/${SUB}/resourceGroups/rg-bench/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ml`,
    },
  };
}

function writeEvent(resourceUri: string, operationName = "Microsoft.MachineLearningServices/workspaces/write"): JsonObject {
  return resourceEvent({ eventType: "Microsoft.Resources.ResourceWriteSuccess", resourceUri, operationName, principal: USER, method: "PUT", url: `https://management.azure.com${resourceUri}` });
}

const storageAccountEvent = (name: string): JsonObject =>
  writeEvent(`/subscriptions/${SUB}/resourceGroups/rg-bench/providers/Microsoft.Storage/storageAccounts/${name}`, "Microsoft.Storage/storageAccounts/write");

async function main(): Promise<void> {
  const counts = { compliant: 500, violating: 300, irrelevant: 2000, sequential: { irrelevant: 200, compliant: 100, violating: 50 }, exposure: 30 };
  const sandbox = await new ArmSandbox({ operationDurationMs: 50 }).start();
  const compliant = Array.from({ length: 50 }, (_, i) => workspace(`ws-private-${i}`, "Disabled"));
  const violating = Array.from({ length: counts.violating + counts.sequential.violating }, (_, i) => workspace(`ws-public-${i}`, "Enabled"));
  const exposed = Array.from({ length: counts.exposure }, (_, i) => workspace(`ws-exposed-${i}`, "Disabled"));
  sandbox.seed([...compliant, ...violating, ...exposed]);
  const [tableStorage, teams] = await Promise.all([startStorageProcess(), new TeamsWorkflowsReceiver().start()]);
  const storage = { connectionString: tableStorage.connectionString };
  const prefix = `b${randomBytes(4).toString("hex")}`;
  const runtime: Runtime = {
    arm: new ArmClient({ endpoint: sandbox.endpoint, credential: sandbox.credential(DEMO_BOT), ca: sandbox.ca }),
    ...(await openState(storage, prefix)),
    alerting: await openAlerting(storage, [new TeamsChannel(teams.webhookUrl, "medium", { ca: teams.ca })], { dedupeWindowMs: 3_600_000, ttlMs: 24 * 3_600_000 }, prefix),
    settings: DEMO_SETTINGS,
    now: () => new Date(),
  };
  const handler = createEventGridHandler(async () => runtime);
  const deliver = async (event: JsonObject): Promise<number> => {
    const started = clock();
    await handler(event as unknown as EventGridEvent, newInvocationContext("resourceEvents"));
    return clock() - started;
  };
  // Realistic distances from here on (opening the tables above was not measured).
  const armDelays: Interval[] = [];
  sandbox.faults.onLatency = (ms) => void armDelays.push({ atMs: clock(), ms });
  sandbox.faults.add({ kind: "latency", latencyMs: ARM_LATENCY_MS });
  await tableStorage.setLatency(STORAGE_LATENCY_MS);
  let storageSeen = (await tableStorage.calls(0)).length;
  /** The storage calls made since the last time this was asked. */
  const newStorageCalls = async () => {
    const calls = await tableStorage.calls(storageSeen);
    storageSeen += calls.length;
    return calls;
  };
  const kindOf = new Map(Object.entries(tableNames(prefix)).map(([kind, table]) => [table, kind]));
  const storageKind = (call: { table: string; operation: string }): string => `${kindOf.get(call.table) ?? call.table}.${call.operation}`;

  /** Many events at a time: throughput and calls per event. */
  const throughput = async (events: JsonObject[], concurrency: number) => {
    const requestsBefore = sandbox.requests.length;
    await newStorageCalls();
    const started = clock();
    const cpuBefore = process.cpuUsage();
    const latencies = (await mapLimit(events, concurrency, deliver)).sort((a, b) => a - b);
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (clock() - started) / 1000;
    // This process's CPU time (all its threads; the storage service runs in its own): what "on one core" means on a
    // machine whose other work takes wall time from the run.
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const requests = sandbox.requests.slice(requestsBefore);
    const calls = await newStorageCalls();
    return {
      events: events.length,
      eventsPerSecond: Math.round(events.length / seconds),
      eventsPerCpuSecond: Math.round(events.length / Math.max(cpuSeconds, 1e-6)),
      cpuMsPerEvent: round((cpuSeconds * 1000) / events.length, 3),
      armCallsPerEvent: round(requests.length / events.length),
      armCallsByMethod: ratesBy(requests, (r) => r.method, 1),
      storageCallsPerEvent: round(calls.length / events.length),
      storageCallsByKind: ratesBy(calls, storageKind, events.length),
      concurrentP50Ms: round(percentile(latencies, 50), 1),
      concurrentP99Ms: round(percentile(latencies, 99), 1),
      sandboxMsPerEvent: round(requests.reduce((sum, r) => sum + (r.durationMs ?? 0), 0) / events.length, 1),
    };
  };

  /** One event at a time: what it waits, and how much of that is the injected distance to ARM and storage. */
  const oneAtATime = async (events: JsonObject[]) => {
    const latencies: number[] = [];
    const injected: number[] = [];
    await newStorageCalls();
    for (const event of events) {
      const armFrom = armDelays.length;
      const started = clock();
      await deliver(event);
      const ended = clock();
      const delays = [...armDelays.slice(armFrom), ...(await newStorageCalls()).map((c) => ({ atMs: c.atMs, ms: c.injectedMs }))];
      latencies.push(ended - started);
      injected.push(coveredMs(delays, started, ended));
    }
    latencies.sort((a, b) => a - b);
    const injectedMsPerEvent = injected.reduce((a, b) => a + b, 0) / events.length;
    const p50Ms = percentile(latencies, 50);
    return {
      sequentialEvents: events.length,
      p50Ms: round(p50Ms, 1),
      p99Ms: round(percentile(latencies, 99), 1),
      injectedMsPerEvent: round(injectedMsPerEvent, 1),
      overheadRatio: injectedMsPerEvent > 0 ? round(p50Ms / injectedMsPerEvent) : null,
    };
  };

  const phase = async (label: string, many: JsonObject[], single: JsonObject[]) => {
    progress(`bench: ${label}: ${many.length} events ${CONCURRENCY} at a time, then ${single.length} one at a time`);
    const concurrent = await throughput(many, CONCURRENCY);
    return { ...concurrent, ...(await oneAtATime(single)) };
  };

  const irrelevant = await phase("irrelevant (Storage writes)", Array.from({ length: counts.irrelevant }, (_, i) => storageAccountEvent(`st${i}`)), Array.from({ length: counts.sequential.irrelevant }, (_, i) => storageAccountEvent(`sq${i}`)));
  const compliantEvent = (i: number): JsonObject => writeEvent(compliant[i % compliant.length]!.id);
  const compliantResult = await phase("relevant, compliant", Array.from({ length: counts.compliant }, (_, i) => compliantEvent(i)), Array.from({ length: counts.sequential.compliant }, (_, i) => compliantEvent(i)));
  const violatingEvents = violating.map((w) => writeEvent(w.id));
  const violatingResult = await phase("relevant, violating (remediated)", violatingEvents.slice(0, counts.violating), violatingEvents.slice(counts.violating));
  const stillPublic = violating.filter((w) => (sandbox.resource(w.id)?.properties as JsonObject | undefined)?.publicNetworkAccess !== "Disabled").length;
  if (stillPublic) throw new Error(`${stillPublic} violating workspaces were not remediated: the figures would not describe remediation`);

  progress(`bench: exposure window of ${counts.exposure} risky writes, one at a time`);
  const userArm = new ArmClient({ endpoint: sandbox.endpoint, credential: sandbox.credential(USER), ca: sandbox.ca });
  const exposure = await exposureWindow(sandbox, userArm, USER.objectId, exposed.map((w) => w.id), deliver);

  progress(`bench: burst of ${BURST} events (half irrelevant, half compliant), 64 at a time`);
  let peakRss = process.memoryUsage().rss;
  const rssBefore = peakRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
  const burst = await throughput(Array.from({ length: BURST }, (_, i) => (i % 2 === 0 ? storageAccountEvent(`b${i}`) : compliantEvent(i))), 64);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  const result = {
    run: { at: new Date().toISOString(), node: process.version, injectedArmLatencyMs: ARM_LATENCY_MS, injectedStorageLatencyMs: STORAGE_LATENCY_MS, concurrency: CONCURRENCY, cpus: availableParallelism(), loadAverage1m: round(loadavg()[0]!), id: randomUUID() },
    irrelevant,
    compliant: compliantResult,
    violating: violatingResult,
    exposure,
    burst: { ...burst, rssBeforeMiB: Math.round(rssBefore / 2 ** 20), peakRssMiB: Math.round(peakRss / 2 ** 20) },
    ratios: {
      irrelevantVsCompliantThroughput: round(irrelevant.eventsPerSecond / compliantResult.eventsPerSecond),
      compliantVsViolatingThroughput: round(compliantResult.eventsPerSecond / violatingResult.eventsPerSecond),
      violatingP50OverSandboxTime: round(violatingResult.concurrentP50Ms / Math.max(violatingResult.sandboxMsPerEvent, 0.1)),
      compliantOverhead: compliantResult.overheadRatio,
      violatingOverhead: violatingResult.overheadRatio,
      exposureOverInjected: round(exposure.p50Ms / Math.max(violatingResult.injectedMsPerEvent, 0.1)),
      burstPeakRssOverBaseline: round(peakRss / rssBefore),
    },
  };
  await Promise.all([sandbox.close(), tableStorage.close(), teams.close()]);
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : report(result));
}

function report(result: {
  run: { injectedArmLatencyMs: number; injectedStorageLatencyMs: number };
  irrelevant: CaseFigures;
  compliant: CaseFigures;
  violating: CaseFigures & { armCallsByMethod: Record<string, number> };
  exposure: { writes: number; p50Ms: number; p99Ms: number; fromRequestP50Ms: number };
  burst: CaseFigures & { peakRssMiB: number; rssBeforeMiB: number };
  ratios: Record<string, number | null>;
}): string {
  const cells = (values: Array<string | number | null | undefined>): string => values.map((v, i) => String(v ?? "-")[i === 0 ? "padEnd" : "padStart"](i === 0 ? 22 : 10)).join(" ");
  const row = (name: string, r: CaseFigures): string => cells([name, r.eventsPerSecond, r.eventsPerCpuSecond, r.armCallsPerEvent, r.storageCallsPerEvent, r.p50Ms, r.p99Ms, r.injectedMsPerEvent, r.overheadRatio, r.concurrentP50Ms]);
  return [
    `amlguard event pipeline benchmark (${process.version}; injected: ${result.run.injectedArmLatencyMs} ms per ARM call, ${result.run.injectedStorageLatencyMs} ms per Table Storage call)`,
    cells(["events", "events/s", "ev/CPU-s", "ARM/ev", "storage/ev", "p50 ms", "p99 ms", "inj ms/ev", "overhead", "p50@16 ms"]),
    row("irrelevant", result.irrelevant),
    row("compliant", result.compliant),
    row("violating→remediated", result.violating),
    row("burst", result.burst),
    `storage calls per event: irrelevant ${JSON.stringify(result.irrelevant.storageCallsByKind)}`,
    `  compliant ${JSON.stringify(result.compliant.storageCallsByKind)}`,
    `  violating ${JSON.stringify(result.violating.storageCallsByKind)}`,
    `violating ARM calls: ${JSON.stringify(result.violating.armCallsByMethod)}`,
    `exposure window of a risky write (${result.exposure.writes}): p50 ${result.exposure.p50Ms} ms, p99 ${result.exposure.p99Ms} ms from the write taking effect; p50 ${result.exposure.fromRequestP50Ms} ms from the user's request`,
    `peak RSS during the burst: ${result.burst.peakRssMiB} MiB (before: ${result.burst.rssBeforeMiB} MiB)`,
    `ratios: ${JSON.stringify(result.ratios)}`,
  ].join("\n") + "\n";
}

type CaseFigures = {
  eventsPerSecond: number;
  eventsPerCpuSecond: number;
  armCallsPerEvent: number;
  storageCallsPerEvent: number;
  storageCallsByKind: Record<string, number>;
  concurrentP50Ms: number;
  p50Ms?: number;
  p99Ms?: number;
  injectedMsPerEvent?: number;
  overheadRatio?: number | null;
};

await main();
