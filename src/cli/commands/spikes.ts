import { spikeCells } from "../../spikes/backtest.js";
import { createCredential, createLogsClient } from "../../adapters.js";
import type { Alert } from "../../alerts/alert.js";
import type { LogsClient } from "../../azure/logs-client.js";
import { loadConfig } from "../../config.js";
import { buildSpikeQuery } from "../../spikes/query.js";
import { runSpikeDetection, type SpikeRun } from "../../spikes/run.js";
import { checkGuid, parseSince } from "../args.js";
import { table } from "../format.js";
import { columnsOf, EXIT, UsageError, writeJson, type CliIo } from "../io.js";

export const SPIKES_MAX_SINCE_MS = 24 * 3_600_000;

export interface SpikesOptions {
  workspaceId?: string;
  since: string;
  printQuery?: boolean;
  sandbox?: boolean;
  json?: boolean;
  /** Score rows exported from Log Analytics instead of querying (src/spikes/backtest.ts). */
  rows?: string;
  eachWindow?: boolean;
}

/** `amlguard spikes`: failed-authentication spikes against the 7-day baseline, as the timer computes them. */
export async function run(io: CliIo, _args: string[], options: SpikesOptions): Promise<number> {
  if (options.printQuery) {
    io.stdout.write(`${buildSpikeQuery()}\n`);
    return EXIT.ok;
  }
  if (options.rows !== undefined || options.eachWindow) {
    const { spikesFromRowsFile } = await import("../../spikes/backtest.js");
    return spikesFromRowsFile(options, io.stdout, io.stderr);
  }
  if (options.workspaceId !== undefined) checkGuid("--workspace-id", options.workspaceId, "Log Analytics workspace");
  // The detector looks back at most 24 hours (MAX_CATCH_UP_MS in src/spikes/run.ts; test/cli.test.ts checks the two
  // agree): a longer --since is refused, never silently shortened.
  const since = parseSince("--since", options.since, new Date(), SPIKES_MAX_SINCE_MS);
  const alerts: Alert[] = [];
  const detect = (logs: LogsClient, workspaceId: string, workspaceResourceId?: string): Promise<SpikeRun> =>
    runSpikeDetection({ logs, alerts: { send: async (a) => void alerts.push(a) }, workspaceId, ...(workspaceResourceId ? { workspaceResourceId } : {}), portal: "https://portal.azure.com", now: () => new Date() }, { since });
  let result: SpikeRun;
  if (options.sandbox) {
    const [{ LogAnalyticsSandbox }, { syntheticFailures }] = await Promise.all([import("../../sandbox/log-analytics.js"), import("../../spikes/synthetic.js")]);
    const sandbox = await new LogAnalyticsSandbox().start();
    try {
      const workspaceId = "5a4db0c0-0000-4000-8000-00000000f00d";
      sandbox.addWorkspace(workspaceId, syntheticFailures(new Date()).rows);
      result = await detect(createLogsClient(sandbox.endpoint, sandbox.credential(), sandbox.ca), workspaceId);
    } finally {
      await sandbox.close();
    }
  } else {
    const config = loadConfig(io.env);
    const workspaceId = options.workspaceId ?? config.logAnalytics?.workspaceId;
    if (!workspaceId) throw new UsageError("say which workspace: --workspace-id GUID (or set AMLGUARD_LOG_ANALYTICS_WORKSPACE_ID; --sandbox runs on a labelled synthetic week)");
    const logs = createLogsClient(config.logAnalytics?.endpoint ?? "https://api.loganalytics.io/v1", io.credential ?? createCredential());
    result = await detect(logs, workspaceId, config.logAnalytics?.workspaceResourceId);
  }
  if (options.json) {
    writeJson(io, { windowStart: result.windowStart, windowEnd: result.windowEnd, rows: result.rows, spikes: result.spikes, alerts });
  } else {
    io.stdout.write(`window ${result.windowStart.toISOString()} to ${result.windowEnd.toISOString()}, ${result.rows} bucketed rows, ${result.spikes.length} spike(s)\n`);
    const rows = result.spikes.map(spikeCells);
    const columns = [
      { header: "KIND" },
      { header: "SOURCE" },
      { header: "PRINCIPAL / IP", wrap: "words" as const },
      { header: "TARGET", wrap: "path" as const },
      { header: "FAILURES", below: 1 },
      { header: "SCORE", drop: 1 },
    ];
    if (rows.length) io.stdout.write(`${table(columns, rows, columnsOf(io.stdout))}\n`);
  }
  return result.spikes.length ? EXIT.findings : EXIT.ok;
}
