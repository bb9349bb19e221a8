import { readFile } from "node:fs/promises";
import { InputError } from "../inputs.js";
import type { FailureBucket } from "./detect.js";

/** The columns of amlguard's spike query (src/spikes/query.ts), in its order. */
export const SPIKE_COLUMNS = ["Source", "Target", "Principal", "IpAddress", "Bucket", "Failures", "FirstSeen", "LastSeen"] as const;
type Column = (typeof SPIKE_COLUMNS)[number];

const MAX_ROWS_BYTES = 256 * 1024 * 1024;

/**
 * Rows exported from Log Analytics, in either shape people have:
 * - the query API's response, `{"tables": [{"name", "columns": [{"name", "type"}], "rows": [[…]]}]}` (Azure Monitor
 *   "Log Analytics API response format"; what the REST API and `az rest` return);
 * - the flat array `az monitor log-analytics query -o json` prints: one object per row, with a `TableName` key and
 *   every value turned into a string (azure-cli-extensions, src/log-analytics/azext_loganalytics/custom.py,
 *   `Query._output`: `item[column] = str(value)`, so a null arrives as "None" and a count as "12").
 * Both are read the same way; anything else is refused with the row and column it stumbled on.
 */
export function parseSpikeRows(text: string, file: string, bucketHours = 1): FailureBucket[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file}: malformed JSON (${(error as Error).message.split("\n")[0]})`);
  }
  const records = recordsOf(json, file);
  if (records.length === 0) throw new InputError(`${file}: no rows: nothing can be scored (export the output of amlguard spikes --print-query over the period to backtest)`);
  const bucketMs = bucketHours * 3_600_000;
  return records.map(({ where, get }) => {
    const bucket = dateOf(get("Bucket"), `${where}, column Bucket`);
    if (bucket.getTime() % bucketMs !== 0) throw new InputError(`${where}, column Bucket: ${bucket.toISOString()} is not on a whole ${bucketHours}-hour bucket (the query bins by ${bucketHours}h)`);
    const firstSeen = dateOf(get("FirstSeen"), `${where}, column FirstSeen`);
    const lastSeen = dateOf(get("LastSeen"), `${where}, column LastSeen`);
    if (lastSeen < firstSeen) throw new InputError(`${where}: LastSeen is before FirstSeen`);
    return {
      source: textOf(get("Source"), `${where}, column Source`, false),
      target: textOf(get("Target"), `${where}, column Target`, true),
      principal: textOf(get("Principal"), `${where}, column Principal`, true),
      ipAddress: textOf(get("IpAddress"), `${where}, column IpAddress`, true),
      bucket,
      failures: countOf(get("Failures"), `${where}, column Failures`),
      firstSeen,
      lastSeen,
    };
  });
}

export async function readSpikeRowsFile(path: string, bucketHours = 1): Promise<FailureBucket[]> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read file${code ? ` (${code})` : ""}`);
  }
  if (buffer.length > MAX_ROWS_BYTES) throw new InputError(`${path}: larger than ${MAX_ROWS_BYTES / 1024 / 1024} MiB`);
  return parseSpikeRows(buffer.toString("utf8"), path, bucketHours);
}

interface RowRecord {
  where: string;
  get: (column: Column) => unknown;
}

function recordsOf(json: unknown, file: string): RowRecord[] {
  if (isObject(json) && Array.isArray(json.tables)) {
    const tables = json.tables as unknown[];
    const table = tables.find((t) => isObject(t) && t.name === "PrimaryResult") ?? tables[0];
    if (!isObject(table) || !Array.isArray(table.columns) || !Array.isArray(table.rows)) throw new InputError(`${file}: "tables" holds no table with "columns" and "rows" (the query API's response format)`);
    const names = (table.columns as unknown[]).map((c) => (isObject(c) && typeof c.name === "string" ? c.name : ""));
    const index = new Map(SPIKE_COLUMNS.map((column) => [column, names.indexOf(column)]));
    const missing = SPIKE_COLUMNS.filter((column) => index.get(column)! < 0);
    if (missing.length) throw new InputError(`${file}: the table has no column ${missing.join(", ")} (amlguard's query returns ${SPIKE_COLUMNS.join(", ")}; print it with amlguard spikes --print-query)`);
    return (table.rows as unknown[]).map((row, i) => {
      const where = `${file}: row ${i + 1}`;
      if (!Array.isArray(row)) throw new InputError(`${where}: not an array of ${names.length} values`);
      if (row.length !== names.length) throw new InputError(`${where}: ${row.length} values for ${names.length} columns`);
      return { where, get: (column) => row[index.get(column)!] };
    });
  }
  if (Array.isArray(json)) {
    return json.map((item, i) => {
      const where = `${file}: row ${i + 1}`;
      if (!isObject(item)) throw new InputError(`${where}: not an object with the query's columns`);
      const missing = SPIKE_COLUMNS.filter((column) => !(column in item));
      if (missing.length) throw new InputError(`${where}: no column ${missing.join(", ")} (amlguard's query returns ${SPIKE_COLUMNS.join(", ")})`);
      return { where, get: (column) => item[column] };
    });
  }
  throw new InputError(`${file}: neither a query API response ({"tables": [...]}) nor the array of rows az monitor log-analytics query -o json prints`);
}

function textOf(value: unknown, where: string, mayBeEmpty: boolean): string {
  // az prints a null as "None" (str(None)); the API sends null or "" for an empty string column.
  const text = value === null || value === undefined || value === "None" ? "" : value;
  if (typeof text !== "string") throw new InputError(`${where}: expected text, found ${describe(value)}`);
  if (!mayBeEmpty && text === "") throw new InputError(`${where}: empty`);
  if (text.length > 1024) throw new InputError(`${where}: longer than 1024 characters`);
  return text;
}

function countOf(value: unknown, where: string): number {
  const number = typeof value === "number" ? value : typeof value === "string" && /^\d{1,12}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < 0) throw new InputError(`${where}: expected a whole number of failures, found ${describe(value)}`);
  return number;
}

function dateOf(value: unknown, where: string): Date {
  // Log Analytics writes datetimes as ISO 8601 in UTC ("2026-11-25T11:00:00Z"); a date without a zone is ambiguous.
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value.trim())) {
    throw new InputError(`${where}: expected an ISO 8601 date with a time zone, found ${describe(value)}`);
  }
  const date = new Date(value.trim());
  if (Number.isNaN(date.getTime())) throw new InputError(`${where}: ${describe(value)} is not a valid date`);
  return date;
}

function describe(value: unknown): string {
  if (typeof value === "string") return inert(JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value));
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Text from the logs, safe to print: control, line-separator and bidi-override characters become "?". */
export function inert(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const unsafe = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    out += unsafe ? "?" : char;
  }
  return out;
}
