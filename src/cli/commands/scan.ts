import { createAzureClients, createCredential, type AzureClients } from "../../adapters.js";
import { loadConfig } from "../../config.js";
import { estateSource, type EstateScope } from "../../runtime.js";
import { RULES } from "../../rules/index.js";
import { scanEstate } from "../../scan.js";
import { checkGuid, checkName } from "../args.js";
import { countsLine, summaryTables } from "../format.js";
import { columnsOf, EXIT, UsageError, writeJson, type CliIo } from "../io.js";
import { progressReporter } from "../progress.js";
import { fitLine } from "../table.js";
import { printFindings } from "./evaluate.js";
import type { buildReport } from "../../report/model.js";

export interface ScanOptions {
  subscription?: string[];
  managementGroup?: string;
  resourceGroup?: string;
  via: "graph" | "arm";
  sandbox?: boolean;
  json?: boolean;
  /** Also write the posture report (one self-contained HTML file) there. */
  html?: string;
}

/** `amlguard scan`: the estate through Resource Graph (one paged query) or ARM enumeration. */
export async function run(io: CliIo, _args: string[], options: ScanOptions): Promise<number> {
  for (const id of options.subscription ?? []) checkGuid("--subscription", id, "subscription");
  if (options.resourceGroup !== undefined) checkName("--resource-group", options.resourceGroup, "resource group name");
  if (options.managementGroup !== undefined) checkName("--management-group", options.managementGroup, "management group id");
  if (options.managementGroup && options.via === "arm") throw new UsageError("--management-group needs --via graph (ARM enumeration works per subscription)");
  // A report that cannot be written is refused before anything is scanned (exit 2, nothing written).
  if (options.html !== undefined) await checkHtmlPath(options.html);
  if (options.sandbox) {
    const { startSandbox } = await import("../../sandbox/index.js");
    const { createEndpointClients } = await import("../../adapters.js");
    // After a demo, the estate as it left it (README: the demo); otherwise the built-in demo estate.
    const { keptEstatePath } = await import("../../demo/state.js");
    const kept = keptEstatePath(io.cwd ?? process.cwd());
    if (kept) io.stderr.write("note: scanning the estate as the last demo left it (.amlguard/sandbox); delete that folder for the original\n");
    const sandbox = await startSandbox(kept ? { scenarioPath: kept } : {});
    try {
      const clients = createEndpointClients({ url: sandbox.arm.endpoint, credential: sandbox.arm.credential(), ca: sandbox.arm.ca });
      return await scanAndPrint(io, clients, { ...scopeOf(options), subscriptions: options.subscription ?? sandbox.subscriptionIds }, options);
    } finally {
      await sandbox.close();
    }
  }
  const config = loadConfig(io.env);
  const subscriptions = options.subscription ?? config.subscriptionIds;
  if (subscriptions.length === 0 && !options.managementGroup) throw new UsageError("say what to scan: --subscription ID or --management-group MG (or set AMLGUARD_SUBSCRIPTION_IDS; --sandbox scans the embedded demo estate)");
  return scanAndPrint(io, createAzureClients(config, io.credential ?? createCredential()), { ...scopeOf(options), subscriptions }, options);
}

function scopeOf(options: ScanOptions): Omit<EstateScope, "subscriptions"> {
  return { via: options.via, ...(options.managementGroup ? { managementGroup: options.managementGroup } : {}), ...(options.resourceGroup ? { resourceGroup: options.resourceGroup } : {}) };
}

function describeScope(scope: EstateScope): string {
  const where = scope.managementGroup ? `management group ${scope.managementGroup}` : `${scope.subscriptions.length} subscription(s)`;
  return scope.resourceGroup ? `resource group ${scope.resourceGroup} in ${where}` : where;
}

/**
 * Scans and prints. What was not checked is never shown as compliant: a scope that could not be read is an error
 * (exit 2, nothing on stdout but what was read), an empty or unmatched scope a warning with its own exit code (3).
 */
export async function scanAndPrint(io: CliIo, clients: Pick<AzureClients, "arm" | "graph">, scope: EstateScope, options: { json?: boolean; html?: string } = {}): Promise<number> {
  const via = scope.via === "arm" ? "ARM" : "Resource Graph";
  if (scope.subscriptions.length === 0 && !scope.managementGroup) {
    if (options.json) writeJson(io, { via: scope.via, subscriptions: [], checked: 0, findings: [], errors: [] });
    if (options.html) await writeHtml(io, options.html, EMPTY_SCAN, scope);
    return nothingChecked(io, "no subscription in scope");
  }
  const progress = progressReporter(io.stderr, `scan via ${via}`);
  const result = await scanEstate(estateSource(clients, scope), (p) => progress.update(p));
  progress.done();
  if (options.html) await writeHtml(io, options.html, result, scope);
  const { findings, errors } = result;
  const checked = Object.values(result.resourceCounts).reduce((a, b) => a + b, 0);
  if (options.json) {
    writeJson(io, {
      via: result.via,
      subscriptions: scope.subscriptions,
      ...(scope.managementGroup ? { managementGroup: scope.managementGroup } : {}),
      ...(scope.resourceGroup ? { resourceGroup: scope.resourceGroup } : {}),
      resourceCounts: result.resourceCounts,
      checked,
      computeSource: result.computeSource,
      findings,
      errors,
      notEvaluated: notEvaluatedByScan(),
    });
  }
  // Where the computes came from matters when Resource Graph could not be trusted for them (src/scan.ts).
  if (result.computeSource.via !== "graph" || result.computeSource.reason.startsWith("not verified")) {
    if (result.via === "graph") io.stderr.write(`note: computes: ${result.computeSource.reason}${result.computeSource.via === "arm-fallback" ? " (listed through ARM instead)" : ""}\n`);
  }
  for (const e of errors) io.stderr.write(`error: ${e.scope}: ${e.message}\n`);
  if (errors.length) {
    // Only what was read goes to stdout, and never as "No findings".
    if (!options.json && checked > 0) {
      io.stdout.write(`${fitLine(`${countsLine(result.resourceCounts)} read (via ${via}) before the errors below`, columnsOf(io.stdout))}\n`);
      if (findings.length) printFindings(io, findings, false);
    }
    io.stderr.write(`amlguard: ${errors.length} part(s) of the scope could not be read: the result is incomplete, not an all-clear\n`);
    return EXIT.error;
  }
  if (checked === 0) {
    const hint = scope.resourceGroup ? " (is the resource group name right?)" : "";
    return nothingChecked(io, `no Machine Learning resources in ${describeScope(scope)}${hint}`);
  }
  if (!options.json) {
    io.stdout.write(`${fitLine(`${countsLine(result.resourceCounts)} (via ${via})`, columnsOf(io.stdout))}\n`);
    printFindings(io, findings, false);
    if (findings.length) io.stdout.write(`\n${summaryTables(findings, columnsOf(io.stdout))}\n`);
    // Said beside the result, so "No findings." is never read as covering rules scan cannot evaluate.
    const skipped = notEvaluatedByScan();
    if (skipped.length) io.stdout.write(`\nNot evaluated by scan: ${skipped.map((s) => s.ruleId).join(", ")} (${[...new Set(skipped.map((s) => s.why))].join("; ")}).\n`);
  }
  return findings.length ? EXIT.findings : EXIT.ok;
}

/**
 * Rules that need related resources (a resource's diagnostic settings) which scan does not read: one query cannot
 * carry them. The daily sweep and `amlguard remediate` read them and evaluate these rules.
 */
export function notEvaluatedByScan(): Array<{ ruleId: string; why: string }> {
  return RULES.filter((rule) => rule.related?.length).map((rule) => ({
    ruleId: rule.id,
    why: `they need each resource's ${rule.related!.map((r) => (r === "diagnosticSettings" ? "diagnostic settings" : r)).join(", ")}; the daily sweep and amlguard remediate read them`,
  }));
}

const EMPTY_SCAN: Parameters<typeof buildReport>[0] = {
  findings: [],
  resourceCounts: { workspace: 0, compute: 0, onlineEndpoint: 0, onlineDeployment: 0, registry: 0 },
  violating: [],
  errors: [],
  computeSource: { via: "graph", reason: "not checked: no subscription in scope" },
};

async function checkHtmlPath(path: string): Promise<void> {
  const { checkReportPath, ReportPathError } = await import("../../report/write.js");
  try {
    await checkReportPath(path);
  } catch (error) {
    throw error instanceof ReportPathError ? new UsageError(error.message) : error;
  }
}

/** The posture report (src/report/), loaded only when asked for; its path goes to stderr, stdout stays the result. */
async function writeHtml(io: CliIo, path: string, result: Parameters<typeof buildReport>[0], scope: EstateScope): Promise<void> {
  const [{ buildReport: build }, { writeReport }] = await Promise.all([import("../../report/model.js"), import("../../report/write.js")]);
  const report = build(result, { via: scope.via, subscriptions: scope.subscriptions, ...(scope.managementGroup ? { managementGroup: scope.managementGroup } : {}), ...(scope.resourceGroup ? { resourceGroup: scope.resourceGroup } : {}) }, new Date());
  await writeReport(path, report);
  io.stderr.write(`posture report: ${path} (${report.findings.length} findings, ${report.checked} resources checked)\n`);
}

function nothingChecked(io: CliIo, reason: string): number {
  io.stderr.write(`warning: nothing was checked: ${reason}; this is not an all-clear (exit ${EXIT.nothingChecked})\n`);
  return EXIT.nothingChecked;
}
