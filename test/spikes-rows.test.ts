import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/inputs.js";
import { parseSpikeRows, readSpikeRowsFile, SPIKE_COLUMNS } from "../src/spikes/rows-file.js";
import { cli } from "./helpers/cli.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/spikes/${name}`, import.meta.url));
const REST = fixture("query-api-response.json");
const AZ = fixture("az-cli-query.json");

interface BacktestJson {
  rows: number;
  from: string;
  to: string;
  windows: number;
  spikes: Array<{ window: { start: string; end: string }; kind: string; source: string; target: string; principal: string; ipAddress: string; failures: number; baseline: number; score: number }>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "amlguard-spike-rows-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const write = async (name: string, content: unknown): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
};

describe("amlguard spikes --rows FILE --each-window --json: a backtest over rows exported from Log Analytics", () => {
  it("reads the query API's response and the az CLI's flat array (strings for every value) to the same rows", async () => {
    const rest = await readSpikeRowsFile(REST);
    const az = await readSpikeRowsFile(AZ);
    expect(rest.length).toBeGreaterThan(0);
    expect(az).toEqual(rest);
    expect(typeof rest[0]!.failures).toBe("number");
  });

  it("scores every bucket after the baseline, prints each spike with its window; both exports give the same answer", async () => {
    const results = await Promise.all([REST, AZ].map((file) => cli(["spikes", "--rows", file, "--each-window", "--json"])));
    for (const result of results) {
      expect(result.stderr).toBe("");
      expect(result.code).toBe(1);
    }
    expect(results[1]!.stdout).toBe(results[0]!.stdout);
    const body = JSON.parse(results[0]!.stdout) as BacktestJson;
    const rows = await readSpikeRowsFile(REST);
    expect(body.rows).toBe(rows.length);
    const from = Date.parse(body.from);
    const to = Date.parse(body.to);
    // Every window is one hourly bucket after the 6-day baseline, inside the rows.
    expect(body.windows).toBe((to - from) / 3_600_000 - 6 * 24);
    for (const spike of body.spikes) {
      expect(Date.parse(spike.window.start)).toBeGreaterThanOrEqual(from + 6 * 86_400_000);
      expect(Date.parse(spike.window.end) - Date.parse(spike.window.start)).toBe(3_600_000);
      expect(Date.parse(spike.window.end)).toBeLessThanOrEqual(to);
      expect(Object.keys(spike)).toEqual(expect.arrayContaining(["window", "kind", "source", "target", "principal", "ipAddress", "failures", "baseline", "score"]));
    }
    const flagged = (kind: string, principal: string) => body.spikes.filter((s) => s.kind === kind && s.principal === principal);
    // The fixture's README says what is in it: brute force at 10:00 and a spray at 03:00 on the 23rd, a slow ramp.
    expect(flagged("principal", "authType:key").map((s) => s.window.start)).toContain("2026-11-23T10:00:00.000Z");
    expect(flagged("spray", "198.51.100.7").map((s) => s.window.start)).toContain("2026-11-23T03:00:00.000Z");
    expect(flagged("ramp", "etl@contoso.example").length).toBeGreaterThan(0);
    expect(flagged("ramp", "sp-batch-scoring")).toEqual([]);
  });

  it("without --each-window scores only the last bucket, as the timer would have at the time of the export", async () => {
    const result = await cli(["spikes", "--rows", REST, "--json"]);
    const body = JSON.parse(result.stdout) as BacktestJson;
    expect(body.windows).toBe(1);
    for (const spike of body.spikes) expect(spike.window.end).toBe(body.to);
    expect(result.code).toBe(body.spikes.length ? 1 : 0);
  });

  it("prints a table with whole identifiers, and text from the logs made inert", async () => {
    const rows = JSON.parse(await readFile(AZ, "utf8")) as Array<Record<string, string>>;
    const evil = "evil\u001b[2J\u202eprincipal@contoso.example";
    const tampered = rows.map((r) => (r.Principal === "etl@contoso.example" ? { ...r, Principal: evil } : r));
    const result = await cli(["spikes", "--rows", await write("tampered.json", tampered), "--each-window"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^\d+ rows from 2026-11-16T00:00:00\.000Z to 2026-11-24T00:00:00\.000Z; \d+ window\(s\) scored; \d+ spike\(s\)\n/);
    expect(result.stdout).toMatch(/\n2026-11-23 10:00 {2}principal +aml-online-endpoint +authType:key +mlw-prod\/endpoint-0 /);
    expect(result.stdout).toContain("evil?[2J?principal@contoso.example");
    expect(result.stdout.includes("\u001b") || result.stdout.includes("\u202e")).toBe(false);
    expect(result.stdout).not.toContain("…");
  });
});

describe("bad exported rows: a clear error naming the row or column, exit 2, nothing scored", () => {
  const table = (columns: string[], rows: unknown[][]) => ({ tables: [{ name: "PrimaryResult", columns: columns.map((name) => ({ name, type: "string" })), rows }] });
  const good = ["entra-user", "Azure Portal", "a@contoso.example", "192.0.2.1", "2026-11-16T00:00:00Z", 3, "2026-11-16T00:01:00Z", "2026-11-16T00:05:00Z"];
  const cases: Array<[string, unknown, RegExp]> = [
    ["malformed JSON", "{\"tables\": [", /malformed JSON/],
    ["a column missing", table(SPIKE_COLUMNS.filter((c) => c !== "Failures"), [good.filter((_, i) => i !== 5)]), /has no column Failures .*--print-query/],
    ["a count that is not a number", table([...SPIKE_COLUMNS], [good, good.map((v, i) => (i === 5 ? "many" : v))]), /row 2, column Failures: expected a whole number of failures, found "many"/],
    ["a negative count", table([...SPIKE_COLUMNS], [good.map((v, i) => (i === 5 ? -1 : v))]), /row 1, column Failures/],
    ["a bucket without a time zone", table([...SPIKE_COLUMNS], [good.map((v, i) => (i === 4 ? "2026-11-16 00:00" : v))]), /row 1, column Bucket: expected an ISO 8601 date with a time zone/],
    ["a bucket off the hour", table([...SPIKE_COLUMNS], [good.map((v, i) => (i === 4 ? "2026-11-16T00:15:00Z" : v))]), /row 1, column Bucket: .* is not on a whole 1-hour bucket/],
    ["a row of the wrong length", table([...SPIKE_COLUMNS], [good.slice(1)]), /row 1: 7 values for 8 columns/],
    ["a flat row without a column", [Object.fromEntries(SPIKE_COLUMNS.map((c, i) => [c, String(good[i])]).filter(([c]) => c !== "Bucket"))], /row 1: no column Bucket/],
    ["something else", { value: [] }, /neither a query API response/],
    ["no rows", table([...SPIKE_COLUMNS], []), /no rows: nothing can be scored/],
    ["fewer days than the baseline", table([...SPIKE_COLUMNS], [good]), /the first 6 are the baseline/],
  ];
  for (const [name, content, message] of cases) {
    it(name, async () => {
      const file = await write(`${name.replace(/\W+/g, "-")}.json`, content);
      const result = await cli(["spikes", "--rows", file, "--each-window", "--json"]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(message);
      expect(result.stderr.startsWith(`amlguard: ${file}`)).toBe(true);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it("a file that cannot be read, and --each-window without --rows", async () => {
    const missing = await cli(["spikes", "--rows", join(dir, "nope.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: cannot read file \(ENOENT\)/);
    const alone = await cli(["spikes", "--each-window"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--each-window needs --rows FILE/);
  });

  it("reads the datetimes Log Analytics writes (7 fractional digits, or none) and az's None for a null", () => {
    const rows = parseSpikeRows(JSON.stringify([{ TableName: "PrimaryResult", Source: "entra-user", Target: "Azure Portal", Principal: "a", IpAddress: "None", Bucket: "2026-11-16T03:00:00Z", Failures: "12", FirstSeen: "2026-11-16T03:01:02.1234567Z", LastSeen: "2026-11-16T03:09:00Z" }]), "x.json");
    expect(rows[0]).toMatchObject({ ipAddress: "", failures: 12, bucket: new Date("2026-11-16T03:00:00Z") });
    expect(() => parseSpikeRows(JSON.stringify([{ Source: "", Target: "", Principal: "", IpAddress: "", Bucket: "2026-11-16T03:00:00Z", Failures: 1, FirstSeen: "2026-11-16T03:00:00Z", LastSeen: "2026-11-16T03:00:00Z" }]), "x.json")).toThrow(InputError);
  });
});

describe("a long backtest shows progress on a terminal only", () => {
  it("writes the windows scored so far to a TTY's stderr, nothing to a pipe's", async () => {
    const { spikesFromRowsFile } = await import("../src/spikes/backtest.js");
    let out = "";
    let tty = "";
    await spikesFromRowsFile({ rows: REST, eachWindow: true, json: true }, { write: (s: string) => void (out += s) }, { isTTY: true, write: (s: string) => void (tty += s) });
    const { windows } = JSON.parse(out) as BacktestJson;
    expect(tty).toContain(`\rbacktest: 24 of ${windows} windows scored`);
    expect(tty.endsWith(`\rbacktest: ${windows} of ${windows} windows scored\n`)).toBe(true);
    let piped = "";
    await spikesFromRowsFile({ rows: REST, eachWindow: true, json: true }, { write: () => undefined }, { isTTY: false, write: (s: string) => void (piped += s) });
    expect(piped).toBe("");
  });
});
