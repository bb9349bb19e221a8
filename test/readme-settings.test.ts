import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";

// The README's settings tables (a table whose first column is "setting") against the config schema (src/config.ts):
// every setting documented exists, every setting the code reads is documented, and a documented default is the code's.
const README = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

/**
 * Settings the README may name that are not amlguard's own, so not in the schema: the Functions platform reads them
 * (identity-based host storage, the worker runtime, Application Insights). None today; listed here when documented.
 */
const APP_PLATFORM = new Set<string>([
  "AzureWebJobsStorage__credential",
  "AzureWebJobsStorage__clientId",
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
]);

interface Row {
  names: string[];
  /** The documented default per name, when the default cell is code (`…`); undefined for "(none)" and prose. */
  defaults: Array<string | undefined>;
  line: number;
}

function settingsRows(markdown: string): Row[] {
  const rows: Row[] = [];
  const lines = markdown.split("\n");
  let inTable = false;
  for (const [i, line] of lines.entries()) {
    if (/^\|\s*setting\s*\|/i.test(line)) {
      inTable = true;
      continue;
    }
    if (!line.startsWith("|")) {
      inTable = false;
      continue;
    }
    if (!inTable || /^\|\s*-/.test(line)) continue;
    const [, first = "", second = ""] = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
    const names = [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const parts = second.split(" / ").map((part) => /^`([^`]*)`$/.exec(part.trim())?.[1]);
    rows.push({ names, defaults: names.map((_, n) => (parts.length === names.length ? parts[n] : undefined)), line: i + 1 });
  }
  return rows;
}

const rows = settingsRows(README);
const documented = rows.flatMap((row) => row.names);
const inSchema = Object.keys(configSchema.shape);

describe("README settings ↔ config schema", () => {
  it("finds the settings table and reads every row's setting names", () => {
    expect(rows.length).toBeGreaterThan(30);
    for (const row of rows) expect(row.names.length, `README line ${row.line}`).toBeGreaterThan(0);
  });

  it("every setting in the README exists in the config schema (or is the platform's, listed above)", () => {
    expect(documented.filter((name) => !inSchema.includes(name) && !APP_PLATFORM.has(name))).toEqual([]);
  });

  it("every setting in the config schema is in the README", () => {
    expect(inSchema.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it("each setting is documented once", () => {
    expect(documented.filter((name, i) => documented.indexOf(name) !== i)).toEqual([]);
  });

  it("a documented default is what the code applies when the setting is unset", () => {
    const shape = configSchema.shape as Record<string, { safeParse(value: unknown): { success: boolean; data?: unknown } }>;
    const checked: string[] = [];
    for (const row of rows) {
      for (const [n, name] of row.names.entries()) {
        const documentedDefault = row.defaults[n];
        if (documentedDefault === undefined || !shape[name]) continue;
        // Setting the documented default means the same as leaving the setting unset (after parsing: "PT24H" is ms).
        const unset = shape[name].safeParse(undefined);
        const given = shape[name].safeParse(documentedDefault);
        expect([unset.success, given.success], name).toEqual([true, true]);
        expect(given.data, `${name} = ${documentedDefault} (README line ${row.line})`).toEqual(unset.data);
        checked.push(name);
      }
    }
    // The schedules' defaults live in the code (src/schedule.ts) and the README says the same.
    expect(checked).toEqual(expect.arrayContaining(["AMLGUARD_OUTBOX_SCHEDULE", "AMLGUARD_SWEEP_SCHEDULE", "AMLGUARD_SPIKES_SCHEDULE", "AMLGUARD_DEFAULT_MODE", "AMLGUARD_ALERT_TTL_HOURS", "AMLGUARD_PROPOSAL_TTL"]));
  });
});
