import { userInfo } from "node:os";
import { createAzureRuntime, createRuntime, depsFor, type Runtime } from "../../runtime.js";
import { loadConfig } from "../../config.js";
import { manualRemediate, remediateRequestSchema } from "../../manual/remediate.js";
import { describeIssues } from "../../validation.js";
import { createCredential } from "../../adapters.js";
import { table } from "../format.js";
import { columnsOf, EXIT, stderrLogger, UsageError, writeJson, type CliIo } from "../io.js";

export interface RemediateOptions {
  rule?: string[];
  dryRun?: boolean;
  reason: string;
  sandbox?: boolean;
  json?: boolean;
}

const FLAGS: Record<string, string> = { resourceId: "RESOURCE_ID", rules: "--rule", reason: "--reason", dryRun: "--dry-run" };

/** `amlguard remediate RESOURCE_ID`: the same core as POST /api/remediate, modes forced to remediate. */
export async function run(io: CliIo, [resourceId]: string[], options: RemediateOptions): Promise<number> {
  const request = { resourceId, reason: options.reason, ...(options.rule ? { rules: options.rule } : {}), ...(options.dryRun ? { dryRun: true } : {}) };
  const parsed = remediateRequestSchema.safeParse(request, { reportInput: true });
  if (!parsed.success) throw new UsageError(describeIssues(parsed.error.issues, (path) => ({ name: FLAGS[String(path[0])] ?? String(path[0] ?? "arguments") })));
  const user = userInfo().username;
  const act = async (runtime: Runtime): Promise<number> => {
    if (!runtime.manual) throw new UsageError("manual remediation needs AMLGUARD_SUBSCRIPTION_IDS and Table Storage");
    const result = await manualRemediate(parsed.data, { name: user, principalType: "User" }, `cli:${user}`, {
      ...depsFor(runtime, stderrLogger(io)),
      allowedSubscriptions: runtime.manual.allowedSubscriptions,
      inflight: runtime.manual.inflight,
    });
    if (options.json) writeJson(io, result);
    else {
      const rows = result.findings.map((f) => [f.decision, f.ruleId ?? "-", f.actionId ?? "-", f.message]);
      const columns = [{ header: "DECISION" }, { header: "RULE" }, { header: "ACTION", below: 2 }, { header: "DETAIL", wrap: "words" as const, below: 1 }];
      io.stdout.write(`${result.dryRun ? "DRY RUN: nothing written\n" : ""}${table(columns, rows, columnsOf(io.stdout))}\n`);
    }
    return result.findings.some((f) => ["alerted", "failed", "exempt", "off", "duplicate"].includes(f.decision)) ? EXIT.findings : EXIT.ok;
  };
  if (options.sandbox) return withSandboxRuntime(act);
  return act(await createAzureRuntime(loadConfig(io.env), io.credential ?? createCredential()));
}

/** The runtime the Functions app uses, over a fresh embedded sandbox (the demo estate) and Azurite. */
async function withSandboxRuntime(act: (runtime: Runtime) => Promise<number>): Promise<number> {
  const [{ startSandbox }, { startAzuriteTables }, { DEMO_BOT, DEMO_SETTINGS }, { createEndpointClients }] = await Promise.all([
    import("../../sandbox/index.js"),
    import("../../sandbox/azurite.js"),
    import("../../demo.js"),
    import("../../adapters.js"),
  ]);
  const sandbox = await startSandbox();
  const azurite = await startAzuriteTables();
  try {
    const config = loadConfig({ AMLGUARD_SUBSCRIPTION_IDS: sandbox.subscriptionIds.join(","), AMLGUARD_HTTP_RATE_LIMIT_PER_MINUTE: "1000" });
    const credential = sandbox.arm.credential(DEMO_BOT);
    const clients = createEndpointClients({ url: sandbox.arm.endpoint, credential, ca: sandbox.arm.ca }, { connectionString: azurite.connectionString });
    const runtime = await createRuntime(config, clients, credential);
    // Alerts go to stderr (no channels in the sandbox); the demo's modes are the ones `npm start` shows.
    return await act({ ...runtime, alerting: undefined, settings: DEMO_SETTINGS });
  } finally {
    await Promise.all([sandbox.close(), azurite.close()]);
  }
}
