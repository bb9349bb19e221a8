import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { packageRoot } from "../paths.js";
import { EXIT, UsageError, type CliIo } from "./io.js";

export { EXIT, type CliIo } from "./io.js";

/** A command's module: src/cli/commands/<name>.ts, imported only when that command runs (a fast `--help`). */
interface CommandModule {
  run(io: CliIo, args: string[], options: never): Promise<number>;
}

const commands: Record<string, () => Promise<CommandModule>> = {
  evaluate: () => import("./commands/evaluate.js"),
  scan: () => import("./commands/scan.js"),
  audit: () => import("./commands/audit.js"),
  remediate: () => import("./commands/remediate.js"),
  spikes: () => import("./commands/spikes.js"),
  alerts: () => import("./commands/alerts.js"),
  demo: () => import("./commands/demo.js"),
  start: () => import("./commands/start.js"),
  rules: () => import("./commands/rules.js"),
  simulate: () => import("./commands/simulate.js"),
  exemptions: () => import("./commands/exemptions.js"),
  proposals: () => import("./commands/proposals.js"),
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  // `sub` names the subcommand, passed first, for a module serving several (exemptions list|approve|revoke).
  const lazy = (name: keyof typeof commands, sub?: string) => async (...args: unknown[]) => {
    // Commander passes the positional arguments, then the options, then the command itself.
    const options = args.at(-2) as never;
    const positional = args.slice(0, -2).flatMap((a) => (Array.isArray(a) ? a : [a])) as string[];
    exitCode = await (await commands[name]!()).run(io, sub ? [sub, ...positional] : positional, options);
  };
  const program = new Command("amlguard")
    .description("Audit and remediate Azure Machine Learning network and authentication settings")
    .version(version(), "-V, --version", "print the amlguard version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError(false)
    .addHelpText("after", "\nExit codes: 0 checked, nothing found; 1 findings; 2 bad input or a failure; 3 nothing was checked (empty or unmatched scope).");

  program
    .command("evaluate")
    .description("evaluate ARM resources from JSON files or stdin (-): a resource, an array, an ARM list page or a Resource Graph export")
    .argument("<files...>", "JSON files, or - for standard input")
    .option("--json", "print findings as a JSON array")
    .action(lazy("evaluate"));

  program
    .command("scan")
    .description("evaluate the estate: Azure Resource Graph by default (one paged query), or ARM enumeration")
    .option("--subscription <id...>", "subscription ids (default: AMLGUARD_SUBSCRIPTION_IDS)")
    .option("--management-group <id>", "a management group instead of subscriptions (Resource Graph only)")
    .option("--resource-group <name>", "limit to one resource group")
    .addOption(new Option("--via <source>", "enumerate with").choices(["graph", "arm"]).default("graph"))
    .option("--sandbox", "scan the embedded sandbox instead of Azure (the estate as the last demo left it, if one ran here)")
    .option("--json", "print the result as JSON")
    .option("--html <file>", "also write the posture report there: one self-contained HTML file")
    .action(lazy("scan"));

  program
    .command("rules")
    .description("list the rule catalogue: id, severity, categories, Azure Policy / benchmark ids, fix or alert only, title")
    .option("--json", "print the catalogue as JSON (with remediation commands and Bicep)")
    .action(lazy("rules"));

  program
    .command("simulate")
    .description("play a scenario (resources, settings, principals, steps) through amlguard's real handlers on the embedded sandbox")
    .argument("<scenario>", "scenario JSON file (README, simulate)")
    .option("--json", "print the result as JSON")
    .action(lazy("simulate"));

  program
    .command("demo")
    .description("run the whole bot on the embedded Azure sandbox (no Azure account needed): scan, events, remediation, audit")
    .option("--json", "print the result as JSON")
    .option("--serve", "keep the sandbox serving after the demo, until Ctrl-C")
    .action(lazy("demo"));

  program
    .command("audit")
    .description("list the audit trail from Table Storage")
    .option("--since <window>", "how far back: 30m, 24h, 7d or an ISO date (default 24h; with --sandbox, the whole demo)")
    .option("--sandbox", "read what the last demo (npm start) kept in .amlguard/sandbox")
    .option("--json", "print records as JSON")
    .action(lazy("audit"));

  program
    .command("remediate")
    .description("evaluate one resource and remediate its findings now (same pipeline, modes forced to remediate)")
    .argument("<resourceId>", "ARM id of a workspace, compute, online endpoint or deployment, or registry")
    .option("--rule <id...>", "only these rules")
    .option("--dry-run", "plan and audit, write nothing")
    .option("--reason <text>", "why (recorded in the audit trail)", "manual remediation from the CLI")
    .option("--sandbox", "run against the embedded sandbox's demo estate")
    .option("--json", "print the result as JSON")
    .action(lazy("remediate"));

  program
    .command("spikes")
    .description("failed-authentication spikes in a Log Analytics workspace against a 7-day baseline")
    .option("--workspace-id <guid>", "Log Analytics workspace id (default: AMLGUARD_LOG_ANALYTICS_WORKSPACE_ID)")
    .option("--since <window>", "how far back the detection window starts: 30m, 1h, 24h (at most) or an ISO date", "1h")
    .option("--print-query", "print the exact KQL the timer runs, and nothing else")
    .option("--sandbox", "run against the embedded Log Analytics sandbox (a labelled synthetic week)")
    .option("--rows <file>", "score rows exported from Log Analytics (the query API's response, or az monitor log-analytics query -o json) instead of querying")
    .option("--each-window", "with --rows: score every bucket after the baseline period, not only the last (a backtest)")
    .option("--json", "print spikes as JSON")
    .action(lazy("spikes"));

  program
    .command("alerts")
    .description("alert outbox")
    .command("pending")
    .description("list alerts not yet delivered (waiting for retry, refused by the channel, or expired)")
    .option("--sandbox", "read what the last demo (npm start) kept in .amlguard/sandbox")
    .option("--json", "print entries as JSON")
    .action(lazy("alerts"));

  const exemptions = program.command("exemptions").description("approved exemptions (the amlguard-exempt tag only requests one): list, approve, revoke");
  exemptions
    .command("list")
    .description("list approved exemptions with their status: in-force, expired or revoked")
    .option("--resource <id>", "only this resource's")
    .option("--json", "print exemptions as JSON")
    .action(lazy("exemptions", "list"));
  exemptions
    .command("approve")
    .description("approve an exemption (as the signed-in user, who must not be the one who asked for it)")
    .argument("<resourceId>", "ARM id of the resource to exempt")
    .requiredOption("--rules <ids>", "rule ids, comma-separated, or * for every rule below high severity")
    .requiredOption("--until <date>", "last day of the exemption, YYYY-MM-DD (UTC), at most AMLGUARD_EXEMPTION_MAX_DAYS away")
    .requiredOption("--reason <text>", "why (recorded, alerted)")
    .option("--json", "print the exemption as JSON")
    .action(lazy("exemptions", "approve"));
  exemptions
    .command("revoke")
    .description("revoke an exemption now: amlguard enforces the rules again")
    .argument("<id>", "exemption id, as 'amlguard exemptions list' shows it")
    .option("--json", "print the revoked exemption as JSON")
    .action(lazy("exemptions", "revoke"));

  const proposals = program.command("proposals").description("changes amlguard proposes in mode approve, and exemption requests: a second person approves or rejects them");
  proposals
    .command("list")
    .description("list proposals: pending, approved, rejected, expired, superseded or exempted")
    .option("--status <status>", "only these: pending, approved, rejected, expired, superseded or exempted")
    .option("--json", "print proposals as JSON")
    .action(lazy("proposals", "list"));
  proposals
    .command("show")
    .description("show one proposal: the finding, the planned change with before/after and undo, who changed it")
    .argument("<id>", "proposal id, as the alert or 'amlguard proposals list' gives it")
    .option("--json", "print the proposal as JSON")
    .action(lazy("proposals", "show"));
  proposals
    .command("approve")
    .description("approve a proposal as the signed-in identity (its token for amlguard's API proves it and its role; never the one whose write it answers); amlguard applies it if the resource is unchanged")
    .argument("<id>", "proposal id")
    .option("--json", "print the outcome as JSON")
    .action(lazy("proposals", "approve"));
  proposals
    .command("reject")
    .description("reject a proposal: nothing is written, the finding stands")
    .argument("<id>", "proposal id")
    .option("--reason <text>", "why (recorded, alerted)")
    .option("--json", "print the proposal as JSON")
    .action(lazy("proposals", "reject"));

  program
    .command("start")
    .description("with AMLGUARD_SUBSCRIPTION_IDS set, scan those subscriptions; otherwise run the sandbox demo")
    .option("--json", "print the result as JSON")
    .action(lazy("start"));

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    io.stderr.write(`amlguard: ${await messageOf(error)}\n`);
    return EXIT.error;
  }
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

/** One line in the user's terms: our own errors say what to do; anything else is described without a stack. */
async function messageOf(error: unknown): Promise<string> {
  if (error instanceof UsageError) return error.message;
  const known = ["InputError", "ConfigError", "ManualError", "CredentialError"];
  if (error instanceof Error && known.includes(error.name)) return error.message;
  const [{ explainCredentialError }, { describeError }] = await Promise.all([import("../adapters.js"), import("../errors.js")]);
  return explainCredentialError(error)?.message ?? describeError(error);
}
