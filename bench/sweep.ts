/**
 * Sweep benchmark (npm run bench:sweep [-- --json] [-- --workspaces N --computes-per-workspace M --latency MS]):
 * enumerate and evaluate a large sandbox estate through Resource Graph and through ARM enumeration, with the same
 * injected latency per request; report wall time, requests, and peak memory above the seeded baseline, as ratios.
 */
import type { ArmResource } from "../src/arm/resource.js";
import { ArmClient } from "../src/azure/arm-client.js";
import { GraphClient } from "../src/azure/graph-client.js";
import { DEMO_BOT } from "../src/demo.js";
import { ArmSandbox } from "../src/sandbox/arm-server.js";
import { armSource, graphSource, scanEstate, type EstateSource } from "../src/scan.js";

const arg = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const json = process.argv.includes("--json");
const WORKSPACES = arg("workspaces", 10_000);
const COMPUTES = arg("computes-per-workspace", 5);
const LATENCY_MS = arg("latency", 10);
const SUBSCRIPTIONS = ["3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11", "9a1c4e7b-2f3d-4c8a-b6e5-7d0f1a2b3c44"];
const progress = (text: string): void => void process.stderr.write(`${text}\n`);

function estate(): ArmResource[] {
  const resources: ArmResource[] = [];
  for (let w = 0; w < WORKSPACES; w++) {
    const sub = SUBSCRIPTIONS[w % SUBSCRIPTIONS.length]!;
    const id = `/subscriptions/${sub}/resourceGroups/rg-${w % 50}/providers/Microsoft.MachineLearningServices/workspaces/ws-${w}`;
    resources.push({ id, type: "", location: "westeurope", properties: { publicNetworkAccess: w % 10 === 0 ? "Enabled" : "Disabled", managedNetwork: { isolationMode: "AllowOnlyApprovedOutbound" }, encryption: { status: "Enabled" } } });
    for (let c = 0; c < COMPUTES; c++) {
      resources.push({
        id: `${id}/computes/cpu-${c}`,
        type: "",
        location: "westeurope",
        properties: { computeType: "AmlCompute", disableLocalAuth: true, properties: { vmSize: "STANDARD_DS3_V2", enableNodePublicIp: c !== 0, remoteLoginPortPublicAccess: "Disabled", scaleSettings: { maxNodeCount: 4, minNodeCount: 0 } } },
      });
    }
  }
  return resources;
}

async function measure(label: string, sandbox: ArmSandbox, source: EstateSource) {
  progress(`bench: ${label}`);
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const requestsBefore = sandbox.requests.length;
  const started = performance.now();
  let lastReport = 0;
  const result = await scanEstate(source, (p) => {
    if (performance.now() - lastReport > 2000) {
      lastReport = performance.now();
      progress(`  ${label}: ${p.resources} resources (${p.detail})`);
    }
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    seconds: Number(seconds.toFixed(2)),
    requests: sandbox.requests.length - requestsBefore,
    resources: Object.values(result.resourceCounts).reduce((a, b) => a + b, 0),
    findings: result.findings.length,
    errors: result.errors.length,
    peakRssAboveBaselineMiB: Math.round((peak - baseline) / 2 ** 20),
  };
}

progress(`bench: seeding ${WORKSPACES} workspaces and ${WORKSPACES * COMPUTES} computes`);
const sandbox = await new ArmSandbox({ pageSize: 100 }).start();
sandbox.seed(estate());
sandbox.faults.add({ kind: "latency", latencyMs: LATENCY_MS });
const credential = sandbox.credential(DEMO_BOT);
const arm = new ArmClient({ endpoint: sandbox.endpoint, credential, ca: sandbox.ca });
const graph = new GraphClient({ endpoint: sandbox.endpoint, credential, ca: sandbox.ca });
const viaGraph = await measure("Resource Graph", sandbox, graphSource(graph, { subscriptions: SUBSCRIPTIONS }));
const viaArm = await measure("ARM enumeration", sandbox, armSource(arm, SUBSCRIPTIONS.map((subscriptionId) => ({ subscriptionId }))));
await sandbox.close();
const result = {
  estate: { workspaces: WORKSPACES, computes: WORKSPACES * COMPUTES, injectedLatencyMsPerRequest: LATENCY_MS, node: process.version },
  graph: viaGraph,
  arm: viaArm,
  ratios: {
    armOverGraphWallTime: Number((viaArm.seconds / viaGraph.seconds).toFixed(1)),
    armOverGraphRequests: Number((viaArm.requests / viaGraph.requests).toFixed(1)),
    sameFindings: viaArm.findings === viaGraph.findings,
  },
};
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  process.stdout.write(
    [
      `amlguard sweep benchmark: ${WORKSPACES} workspaces, ${WORKSPACES * COMPUTES} computes, ${LATENCY_MS} ms injected per request (${process.version})`,
      `${"via".padEnd(16)} ${"seconds".padStart(8)} ${"requests".padStart(9)} ${"resources".padStart(10)} ${"findings".padStart(9)} ${"peak RSS +MiB".padStart(14)}`,
      ...([["Resource Graph", viaGraph], ["ARM", viaArm]] as const).map(
        ([name, r]) => `${name.padEnd(16)} ${String(r.seconds).padStart(8)} ${String(r.requests).padStart(9)} ${String(r.resources).padStart(10)} ${String(r.findings).padStart(9)} ${String(r.peakRssAboveBaselineMiB).padStart(14)}`,
      ),
      `ratios: ${JSON.stringify(result.ratios)}`,
    ].join("\n") + "\n",
  );
}
