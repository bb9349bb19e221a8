/**
 * Event pipeline benchmark (npm run bench [-- --json] [-- --burst N]): throughput, ARM calls per event, handling
 * latency against the sandbox's own latency, and peak RSS for a burst. Figures are ratios within one run.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { EventGridEvent } from "@azure/functions";
import type { ArmResource, JsonObject } from "../src/arm/resource.js";
import { ArmClient } from "../src/azure/arm-client.js";
import { mapLimit } from "../src/concurrency.js";
import { DEMO_BOT, DEMO_SETTINGS } from "../src/demo.js";
import { createEventGridHandler } from "../src/handlers/event-grid.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import { openState, type Runtime } from "../src/runtime.js";
import { ArmSandbox } from "../src/sandbox/arm-server.js";
import { startAzuriteTables } from "../src/sandbox/azurite.js";
import { resourceEvent } from "../src/sandbox/events.js";

const json = process.argv.includes("--json");
const burstIndex = process.argv.indexOf("--burst");
const BURST = burstIndex > 0 ? Number(process.argv[burstIndex + 1]) : 10_000;
const SUB = "3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11";
const INJECTED_LATENCY_MS = 2;
const USER = { objectId: "5e5e5e5e-1111-4000-8000-000000000005", name: "bench-user", type: "User" as const };
const progress = (text: string): void => void process.stderr.write(`${text}\n`);

function workspace(name: string, publicNetworkAccess: "Enabled" | "Disabled"): ArmResource {
  return {
    id: `/subscriptions/${SUB}/resourceGroups/rg-bench/providers/Microsoft.MachineLearningServices/workspaces/${name}`,
    type: "Microsoft.MachineLearningServices/workspaces",
    location: "westeurope",
    properties: {
      publicNetworkAccess,
      managedNetwork: { isolationMode: "AllowOnlyApprovedOutbound" },
      encryption: { status: "Enabled" },
    },
  };
}

function writeEvent(resourceUri: string, operationName = "Microsoft.MachineLearningServices/workspaces/write"): JsonObject {
  return resourceEvent({ eventType: "Microsoft.Resources.ResourceWriteSuccess", resourceUri, operationName, principal: USER, method: "PUT", url: `https://management.azure.com${resourceUri}` });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main(): Promise<void> {
  const compliantCount = 500;
  const violatingCount = 300;
  const sandbox = await new ArmSandbox({ operationDurationMs: 50 }).start();
  const compliant = Array.from({ length: 50 }, (_, i) => workspace(`ws-private-${i}`, "Disabled"));
  const violating = Array.from({ length: violatingCount }, (_, i) => workspace(`ws-public-${i}`, "Enabled"));
  sandbox.seed([...compliant, ...violating]);
  const azurite = await startAzuriteTables();
  const arm = new ArmClient({ endpoint: sandbox.endpoint, credential: sandbox.credential(DEMO_BOT), ca: sandbox.ca });
  const runtime: Runtime = {
    arm,
    ...(await openState({ connectionString: azurite.connectionString }, `b${randomBytes(4).toString("hex")}`)),
    alerts: { send: async () => undefined },
    settings: DEMO_SETTINGS,
    now: () => new Date(),
  };
  const handler = createEventGridHandler(async () => runtime);
  const deliver = async (event: JsonObject): Promise<number> => {
    const started = performance.now();
    await handler(event as unknown as EventGridEvent, newInvocationContext("resourceEvents"));
    return performance.now() - started;
  };
  sandbox.faults.add({ kind: "latency", latencyMs: INJECTED_LATENCY_MS });

  const phase = async (label: string, events: JsonObject[], concurrency: number) => {
    progress(`bench: ${label}: ${events.length} events`);
    const requestsBefore = sandbox.requests.length;
    const started = performance.now();
    const latencies = (await mapLimit(events, concurrency, deliver)).sort((a, b) => a - b);
    const seconds = (performance.now() - started) / 1000;
    const requests = sandbox.requests.slice(requestsBefore);
    const armMs = requests.reduce((sum, r) => sum + (r.durationMs ?? 0), 0);
    return {
      events: events.length,
      eventsPerSecond: Math.round(events.length / seconds),
      armCallsPerEvent: Number((requests.length / events.length).toFixed(2)),
      armCallsByMethod: requests.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.method]: (acc[r.method] ?? 0) + 1 }), {}),
      p50Ms: Number(percentile(latencies, 50).toFixed(1)),
      p99Ms: Number(percentile(latencies, 99).toFixed(1)),
      sandboxMsPerEvent: Number((armMs / events.length).toFixed(1)),
    };
  };

  const irrelevantEvents = Array.from({ length: 2000 }, (_, i) => {
    const uri = `/subscriptions/${SUB}/resourceGroups/rg-bench/providers/Microsoft.Storage/storageAccounts/st${i}`;
    return writeEvent(uri, "Microsoft.Storage/storageAccounts/write");
  });
  const irrelevant = await phase("irrelevant (Storage writes)", irrelevantEvents, 16);
  const compliantResult = await phase("relevant, compliant", Array.from({ length: compliantCount }, (_, i) => writeEvent(compliant[i % compliant.length]!.id)), 16);
  const violatingResult = await phase("relevant, violating (remediated)", violating.map((w) => writeEvent(w.id)), 16);

  progress(`bench: burst of ${BURST} events (half irrelevant, half compliant), 64 at a time`);
  let peakRss = process.memoryUsage().rss;
  const rssBefore = peakRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
  const burstEvents = Array.from({ length: BURST }, (_, i) =>
    i % 2 === 0 ? writeEvent(`/subscriptions/${SUB}/resourceGroups/rg-bench/providers/Microsoft.Storage/storageAccounts/b${i}`, "Microsoft.Storage/storageAccounts/write") : writeEvent(compliant[i % compliant.length]!.id),
  );
  const burst = await phase("burst", burstEvents, 64);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  const result = {
    run: { at: new Date().toISOString(), node: process.version, injectedSandboxLatencyMs: INJECTED_LATENCY_MS, id: randomUUID() },
    irrelevant,
    compliant: compliantResult,
    violating: violatingResult,
    burst: { ...burst, rssBeforeMiB: Math.round(rssBefore / 2 ** 20), peakRssMiB: Math.round(peakRss / 2 ** 20) },
    ratios: {
      irrelevantVsCompliantThroughput: Number((irrelevant.eventsPerSecond / compliantResult.eventsPerSecond).toFixed(2)),
      compliantVsViolatingThroughput: Number((compliantResult.eventsPerSecond / violatingResult.eventsPerSecond).toFixed(2)),
      violatingP50OverSandboxTime: Number((violatingResult.p50Ms / Math.max(violatingResult.sandboxMsPerEvent, 0.1)).toFixed(2)),
      burstPeakRssOverBaseline: Number((peakRss / rssBefore).toFixed(2)),
    },
  };
  await sandbox.close();
  await azurite.close();
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const row = (name: string, r: typeof irrelevant): string =>
    `${name.padEnd(22)} ${String(r.eventsPerSecond).padStart(8)} ${String(r.armCallsPerEvent).padStart(10)} ${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(8)} ${String(r.sandboxMsPerEvent).padStart(12)}`;
  process.stdout.write(
    [
      `amlguard event pipeline benchmark (${process.version}; sandbox latency injected: ${INJECTED_LATENCY_MS} ms per ARM call)`,
      `${"events".padEnd(22)} ${"events/s".padStart(8)} ${"ARM/event".padStart(10)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"sandbox ms/ev".padStart(12)}`,
      row("irrelevant", irrelevant),
      row("compliant", compliantResult),
      row("violating→remediated", violatingResult),
      row(`burst ${BURST}`, burst),
      `violating ARM calls: ${JSON.stringify(violatingResult.armCallsByMethod)}`,
      `peak RSS during the burst: ${result.burst.peakRssMiB} MiB (before: ${result.burst.rssBeforeMiB} MiB)`,
      `ratios: ${JSON.stringify(result.ratios)}`,
    ].join("\n") + "\n",
  );
}

await main();
