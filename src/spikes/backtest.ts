import { InputError } from "../inputs.js";
import { DEFAULT_CHECKS, detectAll, type CheckOptions } from "./checks.js";
import type { FailureBucket, Spike } from "./detect.js";
import { inert, readSpikeRowsFile } from "./rows-file.js";

const DAY_MS = 86_400_000;

export interface WindowSpike extends Spike {
  window: { start: Date; end: Date };
}

export interface Backtest {
  rows: number;
  /** The first bucket of the rows and the end of the last one. */
  from: Date;
  to: Date;
  /** Windows scored: every bucket after the baseline period, or only the last one. */
  windows: number;
  spikes: WindowSpike[];
}

export type BacktestSettings = Omit<CheckOptions, "windowStart" | "windowEnd" | "historyStart">;

/**
 * Replays detection over exported rows. The first `lookbackDays - 1` days are the baseline (the hourly check compares a
 * window with the same hour on each of them); every bucket after that is a window, scored with only the rows the timer
 * would have had then (its lookback), so a backtest says what the timer would have alerted, hour by hour.
 */
export function backtest(rows: readonly FailureBucket[], settings: BacktestSettings = DEFAULT_CHECKS, mode: { eachWindow: boolean; only?: "all" | "hourly"; onDay?: (scored: number, total: number) => void } = { eachWindow: true }): Backtest {
  if (rows.length === 0) throw new InputError("no rows: nothing can be scored");
  const bucketMs = settings.bucketHours * 3_600_000;
  const sorted = [...rows].sort((a, b) => a.bucket.getTime() - b.bucket.getTime());
  const from = sorted[0]!.bucket.getTime();
  const to = sorted.at(-1)!.bucket.getTime() + bucketMs;
  const baselineMs = (settings.lookbackDays - 1) * DAY_MS;
  const firstWindow = from + baselineMs;
  if (firstWindow >= to) {
    throw new InputError(`the rows cover ${((to - from) / DAY_MS).toFixed(1)} days; the first ${settings.lookbackDays - 1} are the baseline, so at least one more bucket is needed (export ${settings.lookbackDays} days or more)`);
  }
  const spikes: WindowSpike[] = [];
  let windows = 0;
  let low = 0;
  let high = 0;
  const first = mode.eachWindow ? firstWindow : to - bucketMs;
  const total = Math.round((to - first) / bucketMs);
  for (let start = first; start < to; start += bucketMs) {
    const end = start + bucketMs;
    // The rows the timer's query would have returned for this window: its lookback up to the window's end.
    while (low < sorted.length && sorted[low]!.bucket.getTime() < end - settings.lookbackDays * DAY_MS) low++;
    high = Math.max(high, low);
    while (high < sorted.length && sorted[high]!.bucket.getTime() < end) high++;
    const window = { start: new Date(start), end: new Date(end) };
    const found = detectAll(sorted.slice(low, high), { ...settings, windowStart: window.start, windowEnd: window.end, historyStart: new Date(from) }, mode.only);
    for (const spike of found) spikes.push({ window, ...spike });
    windows++;
    if (windows % 24 === 0 || windows === total) mode.onDay?.(windows, total);
  }
  return { rows: rows.length, from: new Date(from), to: new Date(to), windows, spikes };
}

export interface RowsCommandOptions {
  rows?: string;
  eachWindow?: boolean;
  json?: boolean;
}

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * `amlguard spikes --rows FILE [--each-window] [--json]`: exit 1 when anything was flagged, 0 when nothing was. A month
 * of rows takes a while: on a terminal, stderr shows the windows scored so far (a pipe gets only the result).
 */
export async function spikesFromRowsFile(options: RowsCommandOptions, stdout: Output, stderr?: Output): Promise<number> {
  if (!options.rows) throw new InputError("--each-window needs --rows FILE (rows exported from Log Analytics)");
  const rows = await readSpikeRowsFile(options.rows, DEFAULT_CHECKS.bucketHours);
  let result: Backtest;
  try {
    const onDay = stderr?.isTTY ? (scored: number, total: number) => stderr.write(`\rbacktest: ${scored} of ${total} windows scored${scored === total ? "\n" : ""}`) : undefined;
    result = backtest(rows, DEFAULT_CHECKS, { eachWindow: options.eachWindow === true, ...(onDay ? { onDay } : {}) });
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`${options.rows}: ${error.message}`);
    throw error;
  }
  stdout.write(options.json ? `${JSON.stringify(backtestJson(result), null, 2)}\n` : `${backtestText(result)}\n`);
  return result.spikes.length ? 1 : 0;
}

export function backtestJson(result: Backtest): Record<string, unknown> {
  return {
    rows: result.rows,
    from: result.from.toISOString(),
    to: result.to.toISOString(),
    windows: result.windows,
    spikes: result.spikes.map((s) => ({
      window: { start: s.window.start.toISOString(), end: s.window.end.toISOString() },
      kind: s.kind,
      source: s.source,
      target: s.target,
      principal: s.principal,
      ipAddress: s.ipAddress,
      failures: s.failures,
      baseline: s.baseline,
      score: s.score,
      distinctPrincipals: s.distinctPrincipals,
      firstSeen: s.firstSeen.toISOString(),
      lastSeen: s.lastSeen.toISOString(),
    })),
  };
}

/** A spike's cells for a table: kind, source, who (principal, or the spray's or campaign's spread), target, count, score. */
export function spikeCells(s: Spike): string[] {
  return [
    s.kind,
    s.source,
    s.kind === "spray" ? `${s.distinctPrincipals} principals from ${s.ipAddress}` : s.kind === "campaign" ? `${s.distinctPrincipals} principals` : s.principal,
    s.target,
    s.kind === "campaign" ? `${s.distinctPrincipals} vs ${s.baseline} principals` : `${s.failures} vs ${s.baseline}`,
    String(s.score),
  ];
}

/** One line per spike; whole identifiers (never cut), and text from the logs made inert (no control characters). */
export function backtestText(result: Backtest): string {
  const head = `${result.rows} rows from ${result.from.toISOString()} to ${result.to.toISOString()}; ${result.windows} window(s) scored; ${result.spikes.length} spike(s)`;
  if (result.spikes.length === 0) return head;
  const rows = result.spikes.map((s) => [s.window.start.toISOString().slice(0, 16).replace("T", " "), ...spikeCells(s)].map(inert));
  const headers = ["WINDOW (UTC)", "KIND", "SOURCE", "PRINCIPAL / IP", "TARGET", "COUNT VS BASELINE", "SCORE"];
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd();
  return [head, line(headers), ...rows.map(line)].join("\n");
}
