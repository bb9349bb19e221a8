import { Command, CommanderError, Option } from "commander";
import { createAzureArmClient } from "../adapters.js";
import type { ArmClient } from "../azure/arm-client.js";
import { ConfigError, loadConfig } from "../config.js";
import { InputError, readResourceFile } from "../inputs.js";
import { evaluateResource, type Finding } from "../rules/index.js";
import { startSandbox } from "../sandbox/index.js";
import { describeError } from "../errors.js";
import { scanViaArm, type ScanResult } from "../scan.js";
import { countsLine, findingsTable, severitySummary } from "./format.js";
import { scanProgressReporter, type Output } from "./progress.js";

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
    .description("enumerate and evaluate a subscription's ML resources through ARM")
    .addOption(new Option("--subscription <id>", "subscription id").makeOptionMandatory(false))
    .option("--resource-group <name>", "limit to one resource group")
    .option("--sandbox", "scan the embedded sandbox instead of Azure")
    .option("--json", "print the result as JSON")
    .action(async (options: { subscription?: string; resourceGroup?: string; sandbox?: boolean; json?: boolean }) => {
      if (options.subscription !== undefined && !GUID.test(options.subscription)) throw new UsageError("--subscription must be a subscription GUID");
      if (options.resourceGroup !== undefined && !/^[-\w.()]{1,90}$/.test(options.resourceGroup)) throw new UsageError("--resource-group is not a valid resource group name");
      if (options.sandbox) {
        const sandbox = await startSandbox();
        try {
          const subscriptions = options.subscription
            ? [options.subscription]
            : sandbox.subscriptionIds.filter((id) => !options.resourceGroup || sandbox.hasResourceGroup(id, options.resourceGroup));
          exitCode = await scanAndPrint(io, sandbox.armClient, subscriptions, options.resourceGroup, options.json);
        } finally {
          await sandbox.close();
        }
        return;
      }
      if (!options.subscription) throw new UsageError("--subscription is required (or --sandbox)");
      const arm = createAzureArmClient(loadConfig(io.env));
      exitCode = await scanAndPrint(io, arm, [options.subscription], options.resourceGroup, options.json);
    });

  program
    .command("demo")
    .description("start the embedded Azure sandbox with a realistic estate and show the bot at work (no Azure account needed)")
    .option("--json", "print the result as JSON")
    .action(async (options: { json?: boolean }) => {
      await runDemo(io, options.json);
      exitCode = EXIT.ok;
    });

  program
    .command("start")
    .description("with AMLGUARD_SUBSCRIPTION_IDS set, scan those subscriptions; otherwise run the sandbox demo")
    .option("--json", "print the result as JSON")
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig(io.env);
      if (config.subscriptionIds.length === 0) {
        await runDemo(io, options.json);
        exitCode = EXIT.ok;
        return;
      }
      exitCode = await scanAndPrint(io, createAzureArmClient(config), config.subscriptionIds, undefined, options.json);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    const known = error instanceof InputError || error instanceof UsageError || error instanceof ConfigError;
    io.stderr.write(`amlguard: ${known ? (error as Error).message : describeError(error)}\n`);
    return EXIT.error;
  }
}

function printFindings(io: CliIo, findings: Finding[], json: boolean | undefined): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
    return;
  }
  // Fit a terminal; piped output keeps whole lines for grep and logs.
  io.stdout.write(`${findingsTable(findings, io.stdout.isTTY ? (io.stdout.columns ?? 100) : Number.POSITIVE_INFINITY)}\n`);
  if (findings.length) io.stdout.write(`${severitySummary(findings)}\n`);
}

async function scanAll(io: CliIo, arm: ArmClient, subscriptions: string[], resourceGroup: string | undefined): Promise<Array<ScanResult & { subscriptionId: string }>> {
  const results = [];
  for (const subscriptionId of subscriptions) {
    const progress = scanProgressReporter(io.stderr, `scan ${subscriptionId}`);
    const result = await scanViaArm(arm, { subscriptionId, ...(resourceGroup ? { resourceGroup } : {}) }, (p) => progress.update(p));
    progress.done();
    results.push({ subscriptionId, ...result });
  }
  return results;
}

async function scanAndPrint(io: CliIo, arm: ArmClient, subscriptions: string[], resourceGroup: string | undefined, json: boolean | undefined): Promise<number> {
  const results = await scanAll(io, arm, subscriptions, resourceGroup);
  const findings = results.flatMap((r) => r.findings);
  const errors = results.flatMap((r) => r.errors);
  if (json) {
    io.stdout.write(`${JSON.stringify({ subscriptions: results.map(({ subscriptionId, resourceCounts }) => ({ subscriptionId, resourceCounts })), findings, errors }, null, 2)}\n`);
  } else {
    for (const r of results) io.stdout.write(`subscription ${r.subscriptionId}: ${countsLine(r.resourceCounts)}\n`);
    printFindings(io, findings, false);
    for (const e of errors) io.stderr.write(`error: ${e.scope}: ${e.message}\n`);
  }
  if (errors.length) return EXIT.error;
  return findings.length ? EXIT.findings : EXIT.ok;
}

async function runDemo(io: CliIo, json: boolean | undefined): Promise<void> {
  io.stderr.write("Starting the embedded Azure sandbox (ARM for Microsoft.MachineLearningServices over HTTPS)...\n");
  const sandbox = await startSandbox();
  try {
    io.stderr.write(`Sandbox ARM endpoint ${sandbox.arm.endpoint}: ${sandbox.scenario.description}\n`);
    await scanAndPrint(io, sandbox.armClient, sandbox.subscriptionIds, undefined, json);
  } finally {
    await sandbox.close();
  }
}
