import { Command, CommanderError, Option } from "commander";
import { createAzureArmClient, createAzureGraphClient } from "../adapters.js";
import type { GraphClient } from "../azure/graph-client.js";
import { ConfigError, loadConfig } from "../config.js";
import { InputError, readResourceFile } from "../inputs.js";
import { evaluateResource, type Finding } from "../rules/index.js";
import { startSandbox } from "../sandbox/index.js";
import { userInfo } from "node:os";
import { ArmClient } from "../azure/arm-client.js";
import { DEMO_BOT, DEMO_SETTINGS, DEMO_USER, runDemo } from "../demo.js";
import type { Logger } from "../log.js";
import { ManualError, manualRemediate, remediateRequestSchema } from "../manual/remediate.js";
import { createAzureRuntime, depsFor, openManual, openState, type Runtime } from "../runtime.js";
import { startAzuriteTables } from "../sandbox/azurite.js";
import { DefaultAzureCredential } from "@azure/identity";
import { describeError } from "../errors.js";
import { armSource, filteredSource, graphSource, scanEstate, type EstateSource } from "../scan.js";
import { auditTable, countsLine, findingsTable, severitySummary, shortName, summaryTables, table } from "./format.js";
import { Outbox } from "../alerts/outbox.js";
import type { Alert } from "../alerts/alert.js";
import { LogsClient } from "../azure/logs-client.js";
import { LogAnalyticsSandbox } from "../sandbox/log-analytics.js";
import { buildSpikeQuery } from "../spikes/query.js";
import { runSpikeDetection } from "../spikes/run.js";
import { spikesFromRowsFile } from "../spikes/backtest.js";
import { syntheticFailures } from "../spikes/synthetic.js";
import { openTable, tableNames, type TableStorageTarget } from "../state/tables.js";
import { progressReporter, type Output } from "./progress.js";

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
}

/** Exit codes: 0 compliant, 1 findings, 2 bad input or failure. */
export const EXIT = { ok: 0, findings: 1, error: 2 } as const;

class UsageError extends Error {}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command("amlguard")
    .description("Audit and remediate Azure Machine Learning network and authentication settings")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError(false);

  program
    .command("evaluate")
    .description("evaluate ARM resources from JSON files (a resource, an array, an ARM list page or a Resource Graph export)")
    .argument("<files...>", "JSON files")
    .option("--json", "print findings as a JSON array")
    .action(async (files: string[], options: { json?: boolean }) => {
      const findings: Finding[] = [];
      for (const file of files) {
        const parsed = await readResourceFile(file);
        for (const [type, count] of parsed.unsupported) io.stderr.write(`note: ${file}: skipped ${count} resource(s) of unsupported type ${type}\n`);
        for (const resource of parsed.supported) findings.push(...(evaluateResource(resource) ?? []));
      }
      printFindings(io, findings, options.json);
      exitCode = findings.length ? EXIT.findings : EXIT.ok;
    });

  program
    .command("scan")
    .description("evaluate the estate: Azure Resource Graph by default (one paged query), or ARM enumeration")
    .option("--subscription <id...>", "subscription ids (default: AMLGUARD_SUBSCRIPTION_IDS)")
    .option("--management-group <id>", "a management group instead of subscriptions (Resource Graph only)")
    .option("--resource-group <name>", "limit to one resource group")
    .addOption(new Option("--via <source>", "enumerate with").choices(["graph", "arm"]).default("graph"))
    .option("--sandbox", "scan the embedded sandbox instead of Azure")
    .option("--json", "print the result as JSON")
    .action(async (options: ScanOptions) => {
      for (const id of options.subscription ?? []) if (!GUID.test(id)) throw new UsageError("--subscription must be a subscription GUID");
      if (options.resourceGroup !== undefined && !/^[-\w.()]{1,90}$/.test(options.resourceGroup)) throw new UsageError("--resource-group is not a valid resource group name");
      if (options.managementGroup !== undefined && !/^[-\w.()]{1,90}$/.test(options.managementGroup)) throw new UsageError("--management-group is not a valid management group id");
      if (options.managementGroup && options.via === "arm") throw new UsageError("--management-group needs --via graph");
      if (options.sandbox) {
        const sandbox = await startSandbox();
        try {
          const subscriptions = options.subscription ?? sandbox.subscriptionIds.filter((id) => !options.resourceGroup || sandbox.hasResourceGroup(id, options.resourceGroup));
          exitCode = await scanAndPrint(io, { arm: sandbox.armClient, graph: sandbox.graphClient }, subscriptions, options);
        } finally {
          await sandbox.close();
        }
        return;
      }
      const config = loadConfig(io.env);
      const subscriptions = options.subscription ?? config.subscriptionIds;
      if (subscriptions.length === 0 && !options.managementGroup) throw new UsageError("--subscription or --management-group is required (or AMLGUARD_SUBSCRIPTION_IDS, or --sandbox)");
      const credential = new DefaultAzureCredential();
      exitCode = await scanAndPrint(io, { arm: createAzureArmClient(config, credential), graph: createAzureGraphClient(config, credential) }, subscriptions, options);
    });

  program
    .command("demo")
    .description("run the whole bot on the embedded Azure sandbox (no Azure account needed): scan, events, remediation, audit")
    .option("--json", "print the result as JSON")
    .option("--serve", "keep the sandbox serving after the demo, until Ctrl-C")
    .action(async (options: { json?: boolean; serve?: boolean }) => {
      await demo(io, options);
      exitCode = EXIT.ok;
    });

  program
    .command("audit")
    .description("list the audit trail from Table Storage")
    .option("--since <window>", "how far back: 30m, 24h, 7d or an ISO date", "24h")
    .option("--json", "print records as JSON")
    .action(async (options: { since: string; json?: boolean }) => {
      const since = parseSince(options.since, new Date());
      const { audit } = await openState(storageTarget(io.env));
      const records = await audit.list(since);
      if (options.json) io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      else io.stdout.write(`${auditTable(records, columnsOf(io.stdout))}\n`);
    });

  program
    .command("remediate")
    .description("evaluate one resource and remediate its findings now (same pipeline, modes forced to remediate)")
    .argument("<resourceId>", "ARM id of a workspace, compute, online endpoint or deployment, or registry")
    .option("--rule <id...>", "only these rules")
    .option("--dry-run", "plan and audit, write nothing")
    .option("--reason <text>", "why (recorded in the audit trail)", "manual remediation from the CLI")
    .option("--sandbox", "run against the embedded sandbox's demo estate")
    .option("--json", "print the result as JSON")
    .action(async (resourceId: string, options: { rule?: string[]; dryRun?: boolean; reason: string; sandbox?: boolean; json?: boolean }) => {
      const parsed = remediateRequestSchema.safeParse({ resourceId, reason: options.reason, ...(options.rule ? { rules: options.rule } : {}), ...(options.dryRun ? { dryRun: true } : {}) });
      if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      const user = userInfo().username;
      const caller = { name: user, principalType: "User" };
      const run = async (runtime: Runtime): Promise<void> => {
        if (!runtime.manual) throw new UsageError("manual remediation needs AMLGUARD_SUBSCRIPTION_IDS and Table Storage");
        const result = await manualRemediate(parsed.data, caller, `cli:${user}`, {
          ...depsFor(runtime, stderrLogger(io)),
          allowedSubscriptions: runtime.manual.allowedSubscriptions,
          inflight: runtime.manual.inflight,
        });
        if (options.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          const rows = result.findings.map((f) => [f.decision, f.ruleId ?? "-", f.actionId ?? "-", f.message]);
          io.stdout.write(`${result.dryRun ? "DRY RUN: nothing written\n" : ""}${table(["DECISION", "RULE", "ACTION", "DETAIL"], rows, columnsOf(io.stdout), [12, 34, 40])}\n`);
        }
        exitCode = result.findings.some((f) => ["alerted", "failed", "exempt", "off", "duplicate"].includes(f.decision)) ? EXIT.findings : EXIT.ok;
      };
      if (options.sandbox) {
        await withSandboxRuntime(run);
        return;
      }
      const config = loadConfig(io.env);
      await run(await createAzureRuntime(config));
    });

  program
    .command("spikes")
    .description("failed-authentication spikes in a Log Analytics workspace against a 7-day baseline")
    .option("--workspace-id <guid>", "Log Analytics workspace id (default: AMLGUARD_LOG_ANALYTICS_WORKSPACE_ID)")
    .option("--since <window>", "how far back the detection window starts: 30m, 1h, 24h or an ISO date", "1h")
    .option("--print-query", "print the exact KQL the timer runs, and nothing else")
    .option("--sandbox", "run against the embedded Log Analytics sandbox (a labelled synthetic week)")
    .option("--rows <file>", "score rows exported from Log Analytics (the query API's response, or az monitor log-analytics query -o json) instead of querying")
    .option("--each-window", "with --rows: score every bucket after the baseline period, not only the last (a backtest)")
    .option("--json", "print spikes as JSON")
    .action(async (options: { workspaceId?: string; since: string; printQuery?: boolean; sandbox?: boolean; json?: boolean; rows?: string; eachWindow?: boolean }) => {
      if (options.printQuery) {
        io.stdout.write(`${buildSpikeQuery()}\n`);
        return;
      }
      if (options.rows !== undefined || options.eachWindow) {
        exitCode = await spikesFromRowsFile(options, io.stdout, io.stderr);
        return;
      }
      if (options.workspaceId !== undefined && !GUID.test(options.workspaceId)) throw new UsageError("--workspace-id must be a Log Analytics workspace GUID");
      const since = parseSince(options.since, new Date());
      const alerts: Alert[] = [];
      const detect = async (logs: LogsClient, workspaceId: string, workspaceResourceId?: string) =>
        runSpikeDetection({ logs, alerts: { send: async (a) => void alerts.push(a) }, workspaceId, ...(workspaceResourceId ? { workspaceResourceId } : {}), portal: "https://portal.azure.com", now: () => new Date() }, { since });
      let run;
      if (options.sandbox) {
        const sandbox = await new LogAnalyticsSandbox().start();
        try {
          const workspaceId = "5a4db0c0-0000-4000-8000-00000000f00d";
          sandbox.addWorkspace(workspaceId, syntheticFailures(new Date()).rows);
          run = await detect(new LogsClient({ endpoint: sandbox.endpoint, credential: sandbox.credential(), ca: sandbox.ca }), workspaceId);
        } finally {
          await sandbox.close();
        }
      } else {
        const config = loadConfig(io.env);
        const workspaceId = options.workspaceId ?? config.logAnalytics?.workspaceId;
        if (!workspaceId) throw new UsageError("--workspace-id is required (or AMLGUARD_LOG_ANALYTICS_WORKSPACE_ID, or --sandbox)");
        run = await detect(new LogsClient({ endpoint: config.logAnalytics?.endpoint ?? "https://api.loganalytics.io/v1", credential: new DefaultAzureCredential() }), workspaceId, config.logAnalytics?.workspaceResourceId);
      }
      if (options.json) {
        io.stdout.write(`${JSON.stringify({ windowStart: run.windowStart, windowEnd: run.windowEnd, rows: run.rows, spikes: run.spikes, alerts }, null, 2)}\n`);
      } else {
        io.stdout.write(`window ${run.windowStart.toISOString()} to ${run.windowEnd.toISOString()}, ${run.rows} bucketed rows, ${run.spikes.length} spike(s)\n`);
        const rows = run.spikes.map((s) => [s.kind, s.source, s.kind === "spray" ? `${s.distinctPrincipals} principals from ${s.ipAddress}` : s.principal, s.target, `${s.failures} vs ${s.baseline}`, String(s.score)]);
        if (rows.length) io.stdout.write(`${table(["KIND", "SOURCE", "PRINCIPAL / IP", "TARGET", "FAILURES", "SCORE"], rows, columnsOf(io.stdout), [9, 26, 40, 30, 14])}\n`);
      }
      exitCode = run.spikes.length ? EXIT.findings : EXIT.ok;
    });

  program
    .command("alerts")
    .description("alert outbox")
    .command("pending")
    .description("list alerts not yet delivered (waiting for retry, refused by the channel, or expired)")
    .option("--json", "print entries as JSON")
    .action(async (options: { json?: boolean }) => {
      const outbox = new Outbox(await openTable(storageTarget(io.env), tableNames().outbox), { ttlMs: 0 });
      const entries = await outbox.undelivered();
      if (options.json) {
        io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      if (entries.length === 0) {
        io.stdout.write("No undelivered alerts.\n");
        return;
      }
      const rows = entries.map((e) => [e.channel, e.status, String(e.attempts), e.nextAttemptAt.slice(0, 19), `${e.alert.severity} ${e.alert.outcome}: ${e.alert.title} (${shortName(e.alert.resourceId)})${e.lastError ? ` [${e.lastError}]` : ""}`]);
      io.stdout.write(`${table(["CHANNEL", "STATUS", "TRIES", "NEXT TRY (UTC)", "ALERT"], rows, columnsOf(io.stdout), [7, 9, 5, 19])}\n`);
    });

  program
    .command("start")
    .description("with AMLGUARD_SUBSCRIPTION_IDS set, scan those subscriptions; otherwise run the sandbox demo")
    .option("--json", "print the result as JSON")
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig(io.env);
      if (config.subscriptionIds.length === 0) {
        await demo(io, options);
        exitCode = EXIT.ok;
        return;
      }
      const credential = new DefaultAzureCredential();
      exitCode = await scanAndPrint(io, { arm: createAzureArmClient(config, credential), graph: createAzureGraphClient(config, credential) }, config.subscriptionIds, { via: "graph", ...(options.json ? { json: true } : {}) });
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    const known = error instanceof InputError || error instanceof UsageError || error instanceof ConfigError || error instanceof ManualError;
    io.stderr.write(`amlguard: ${known ? (error as Error).message : describeError(error)}\n`);
    return EXIT.error;
  }
}

function printFindings(io: CliIo, findings: Finding[], json: boolean | undefined): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
    return;
  }
  io.stdout.write(`${findingsTable(findings, columnsOf(io.stdout))}\n`);
  if (findings.length) io.stdout.write(`${severitySummary(findings)}\n`);
}

interface ScanOptions {
  subscription?: string[];
  managementGroup?: string;
  resourceGroup?: string;
  via: "graph" | "arm";
  sandbox?: boolean;
  json?: boolean;
}

/** The estate source the options ask for: Resource Graph over the scope, or ARM per subscription. */
export function sourceFor(clients: { arm: ArmClient; graph: GraphClient }, subscriptions: string[], options: Pick<ScanOptions, "via" | "managementGroup" | "resourceGroup">): EstateSource {
  if (options.via === "arm") return armSource(clients.arm, subscriptions.map((subscriptionId) => ({ subscriptionId, ...(options.resourceGroup ? { resourceGroup: options.resourceGroup } : {}) })));
  const source = graphSource(clients.graph, options.managementGroup ? { managementGroup: options.managementGroup } : { subscriptions });
  const group = options.resourceGroup?.toLowerCase();
  return group ? filteredSource(source, (r) => r.id.split("/")[4]?.toLowerCase() === group) : source;
}

async function scanAndPrint(io: CliIo, clients: { arm: ArmClient; graph: GraphClient }, subscriptions: string[], options: ScanOptions): Promise<number> {
  const progress = progressReporter(io.stderr, `scan via ${options.via === "arm" ? "ARM" : "Resource Graph"}`);
  const result = await scanEstate(sourceFor(clients, subscriptions, options), (p) => progress.update(p));
  progress.done();
  const { findings, errors } = result;
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ via: result.via, subscriptions, ...(options.managementGroup ? { managementGroup: options.managementGroup } : {}), resourceCounts: result.resourceCounts, findings, errors }, null, 2)}\n`);
  } else {
    io.stdout.write(`${countsLine(result.resourceCounts)} (via ${result.via === "graph" ? "Resource Graph" : "ARM"})\n`);
    printFindings(io, findings, false);
    if (findings.length) io.stdout.write(`\n${summaryTables(findings, columnsOf(io.stdout))}\n`);
    for (const e of errors) io.stderr.write(`error: ${e.scope}: ${e.message}\n`);
  }
  if (errors.length) return EXIT.error;
  return findings.length ? EXIT.findings : EXIT.ok;
}

async function demo(io: CliIo, options: { json?: boolean; serve?: boolean }): Promise<void> {
  const result = await runDemo(
    { progress: (step) => io.stderr.write(`${step}\n`) },
    options.serve
      ? {
          keepServing: async (sandbox) => {
            io.stderr.write(`Sandbox ARM endpoint ${sandbox.arm.endpoint} (CA certificate below); Ctrl-C to stop.\n${sandbox.arm.ca}\n`);
            await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
          },
        }
      : {},
  );
  if (options.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const columns = columnsOf(io.stdout);
  const out = (text = ""): void => io.stdout.write(`${text}\n`);
  out(`amlguard demo on the embedded Azure sandbox (${result.armEndpoint})`);
  out();
  out("1. The estate, from one Azure Resource Graph query (what the daily sweep sees)");
  out(`   ${countsLine(result.scan.resourceCounts)}`);
  const findings = result.scan.findings;
  out(findingsTable(findings, columns));
  out(severitySummary(findings));
  out();
  out(`2. What ${DEMO_USER.name} did, through ARM`);
  for (const action of result.userActions) out(`   - ${action}`);
  out();
  out(`3. The bot's decisions on the ${result.eventsDelivered} events ARM published (audit trail, Table Storage)`);
  out(auditTable(result.audit, columns));
  out();
  const byOutcome = new Map<string, number>();
  for (const alert of result.alerts) byOutcome.set(alert.outcome, (byOutcome.get(alert.outcome) ?? 0) + 1);
  out(`4. Alerts raised: ${result.alerts.length} (${[...byOutcome].map(([k, v]) => `${v} ${k}`).join(", ") || "none"})`);
  for (const alert of result.alerts.filter((a) => a.outcome === "remediated")) {
    out(`   - ${alert.title}: ${shortName(alert.resourceId)}; undo: ${alert.undo ?? "-"}`);
  }
  out();
  const { teamsCards, emails } = result.received;
  out(`5. Delivered through the outbox: ${teamsCards.length} Teams card(s) to the Workflows webhook, ${emails.length} email(s) to the SMTP sink`);
  for (const card of teamsCards) out(`   - Teams: ${cardHeadline(card.card)}`);
  for (const email of emails) out(`   - Email: ${email.subject}`);
  out(`   Rendered cards and emails: ${result.galleryPath}`);
}

function cardHeadline(card: Record<string, unknown>): string {
  const body = Array.isArray(card.body) ? (card.body as Array<{ text?: unknown }>) : [];
  return body.map((block) => (typeof block.text === "string" ? block.text : "")).filter(Boolean).slice(0, 2).join(" | ").replace(/\\/g, "");
}

function stderrLogger(io: CliIo): Logger {
  // One line each: alerts are summarised by their message; the result table has the detail.
  const line = (level: string) => (message: string) => io.stderr.write(`${level}: ${message}\n`);
  return { info: () => undefined, warn: line("warning"), error: line("error") };
}

/** A runtime over a fresh embedded sandbox (the demo estate) with Azurite, for trying commands without Azure. */
async function withSandboxRuntime(run: (runtime: Runtime) => Promise<void>): Promise<void> {
  const sandbox = await startSandbox();
  const azurite = await startAzuriteTables();
  try {
    const storage = { connectionString: azurite.connectionString };
    const runtime: Runtime = {
      arm: new ArmClient({ endpoint: sandbox.arm.endpoint, credential: sandbox.arm.credential(DEMO_BOT), ca: sandbox.arm.ca }),
      ...(await openState(storage)),
      manual: await openManual(storage, sandbox.subscriptionIds, 1000),
      settings: DEMO_SETTINGS,
      now: () => new Date(),
    };
    await run(runtime);
  } finally {
    await Promise.all([sandbox.close(), azurite.close()]);
  }
}

/** Table Storage from the settings, with the Azure CLI / managed identity where it is identity-based. */
function storageTarget(env: NodeJS.ProcessEnv): TableStorageTarget {
  const { storage } = loadConfig(env);
  if (!storage) throw new UsageError("no Table Storage configured: set AMLGUARD_STORAGE_CONNECTION_STRING, AMLGUARD_TABLE_ENDPOINT or AzureWebJobsStorage__accountName");
  return "endpoint" in storage ? { endpoint: storage.endpoint, credential: new DefaultAzureCredential() } : storage;
}

function columnsOf(output: Output): number {
  // Fit a terminal; piped output keeps whole lines for grep and logs.
  return output.isTTY ? (output.columns ?? 100) : Number.POSITIVE_INFINITY;
}

/** "30m", "24h", "7d" before now, or an ISO date. */
export function parseSince(text: string, now: Date): Date {
  const relative = /^(\d{1,4})([mhd])$/.exec(text);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "m" | "h" | "d"];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  const absolute = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(absolute)) return new Date(absolute);
  throw new UsageError(`--since '${text.slice(0, 40)}' is not like 30m, 24h, 7d or an ISO date`);
}
