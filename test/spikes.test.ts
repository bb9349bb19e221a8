import { gunzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts/alert.js";
import { LogsClient } from "../src/azure/logs-client.js";
import { createSpikesHandler } from "../src/handlers/spikes.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import type { Runtime } from "../src/runtime.js";
import { startAzuriteTables, type RunningAzurite } from "../src/sandbox/azurite.js";
import { LogAnalyticsSandbox } from "../src/sandbox/log-analytics.js";
import { SPIKE_QUERY_MARKER } from "../src/spikes/query.js";
import { runSpikeDetection, SpikeCheckpoints } from "../src/spikes/run.js";
import { syntheticFailures } from "../src/spikes/synthetic.js";
import { openTable } from "../src/state/tables.js";
import { cli } from "./helpers/cli.js";

const WORKSPACE = "5a4db0c0-0000-4000-8000-00000000f00d";
const NOW = new Date("2026-11-25T12:20:00Z");
let azurite: RunningAzurite;
let logAnalytics: LogAnalyticsSandbox;

beforeAll(async () => {
  [azurite, logAnalytics] = await Promise.all([startAzuriteTables(), new LogAnalyticsSandbox().start()]);
  logAnalytics.addWorkspace(WORKSPACE, syntheticFailures(NOW, 4).rows);
});
afterAll(async () => {
  await Promise.all([azurite.close(), logAnalytics.close()]);
});

const logs = () => new LogsClient({ endpoint: logAnalytics.endpoint, credential: logAnalytics.credential(), ca: logAnalytics.ca });
const checkpoints = async () => new SpikeCheckpoints(await openTable({ connectionString: azurite.connectionString }, `k${randomBytes(5).toString("hex")}`));

describe("failed-authentication spikes through @azure/monitor-query-logs and the Log Analytics sandbox", () => {
  it("alerts each spike with source, target, principal/IP, count vs baseline, first/last seen and a deep link that reopens the query", async () => {
    const alerts: Alert[] = [];
    const run = await runSpikeDetection({ logs: logs(), alerts: { send: async (a) => void alerts.push(a) }, checkpoints: await checkpoints(), workspaceId: WORKSPACE, portal: "https://portal.azure.com", now: () => NOW });
    expect(logAnalytics.queries.at(-1)!.startsWith(SPIKE_QUERY_MARKER)).toBe(true);
    expect(run.spikes.map((s) => s.kind).sort()).toEqual(expect.arrayContaining(["principal", "spray"]));
    const spray = alerts.find((a) => a.ruleId === "auth-spike-spray")!;
    expect(spray.evidence).toMatch(/^\d+ failures vs a baseline of 0 \(score [\d.]+\) by \d+ principals from 198\.51\.100\.\d+ against \*; first 2026-11-25T11:\d\d.*, last 2026-11-25T11:/);
    // The synthetic week's slow ramps, which the hourly check alone misses in its last hour, come from the longer horizon.
    const ramps = alerts.filter((a) => a.ruleId === "auth-spike-ramp");
    expect(ramps.length).toBeGreaterThan(0);
    for (const ramp of ramps) expect(ramp.evidence).toMatch(/^\d+ failures in the last 24 hours vs \d+ in the 24 hours 4 days earlier, rising every day since \(score [\d.]+\) by ramp-\d@contoso\.example \(from 192\.0\.2\.7\) against stmlprod/);
    const encoded = /\/q\/([^/]+)\/timespan\/P7D$/.exec(spray.link!.url)![1]!;
    expect(gunzipSync(Buffer.from(decodeURIComponent(encoded), "base64")).toString("utf8")).toBe(run.query);
  });

  it("a late timer run covers the missed windows from its checkpoint; the same spike is alerted once (router dedupe key)", async () => {
    const store = await checkpoints();
    await store.set(WORKSPACE, new Date("2026-11-25T08:00:00Z"));
    const run = await runSpikeDetection({ logs: logs(), alerts: { send: async () => undefined }, checkpoints: store, workspaceId: WORKSPACE, portal: "https://portal.azure.com", now: () => NOW });
    expect(run.windowStart.toISOString()).toBe("2026-11-25T08:00:00.000Z");
    expect(run.windowEnd.toISOString()).toBe("2026-11-25T12:00:00.000Z");
    expect((await store.get(WORKSPACE))!.toISOString()).toBe("2026-11-25T12:00:00.000Z");
    const keys = run.spikes.map((s) => [s.kind, s.source, s.target, s.principal].join("|"));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("the timer handler runs with a real InvocationContext and reports isPastDue", async () => {
    const alerts: Alert[] = [];
    const runtime = { spikes: { logs: logs(), checkpoints: await checkpoints(), workspaceId: WORKSPACE, portal: "https://portal.azure.com" }, alerts: { send: async (a: Alert) => void alerts.push(a) } } as unknown as Runtime;
    const lines: string[] = [];
    await createSpikesHandler(async () => runtime)({ isPastDue: true, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } }, newInvocationContext("authSpikes", (level, ...args) => void lines.push(`${level} ${args.join(" ")}`)));
    expect(lines.some((l) => l.startsWith("warning amlguard spike detection is running late"))).toBe(true);
    expect(lines.some((l) => l.includes("amlguard.metrics"))).toBe(true);
  });

  it("Log Analytics errors arrive as Azure sends them: 403 for a token it does not know, 429 retried by the SDK", async () => {
    const stranger = new LogsClient({ endpoint: logAnalytics.endpoint, credential: { getToken: async () => ({ token: "unknown", expiresOnTimestamp: Date.now() + 60_000 }) }, ca: logAnalytics.ca });
    await expect(stranger.failureBuckets(WORKSPACE, `${SPIKE_QUERY_MARKER}\nlet lookback = 7d;`, new Date(NOW.getTime() - 3_600_000), NOW)).rejects.toMatchObject({ statusCode: 403 });
    logAnalytics.faults.add({ kind: "throttle", retryAfterSeconds: 0, times: 2 });
    const rows = await logs().failureBuckets(WORKSPACE, `${SPIKE_QUERY_MARKER}\nlet lookback = 7d;`, new Date(NOW.getTime() - 86_400_000), NOW);
    expect(rows.length).toBeGreaterThan(0);
    expect(logAnalytics.faults.fired.throttle).toBe(2);
  });
});

describe("amlguard spikes", () => {
  it("--print-query prints the exact KQL and nothing else", async () => {
    const result = await cli(["spikes", "--print-query"]);
    expect(result.stdout.startsWith(SPIKE_QUERY_MARKER)).toBe(true);
    expect(result.stdout.trimEnd().endsWith("Bucket = bin(TimeGenerated, bucket)")).toBe(true);
    expect(result.stderr).toBe("");
  });

  it("--sandbox finds the synthetic attacks, exit 1; --json for machines", async () => {
    const result = await cli(["spikes", "--sandbox", "--json"]);
    expect(result.code).toBe(1);
    const body = JSON.parse(result.stdout) as { spikes: Array<{ kind: string }> };
    expect(body.spikes.some((s) => s.kind === "spray")).toBe(true);
  });
});
