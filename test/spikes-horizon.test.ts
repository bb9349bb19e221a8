import { describe, expect, it } from "vitest";
import { seededRandom } from "../src/random.js";
import { backtest } from "../src/spikes/backtest.js";
import type { FailureBucket } from "../src/spikes/detect.js";
import { RowBuilder } from "../src/spikes/labelled.js";
import { bruteForcePortal, distributedCracking, failedLogonPortal, passwordSpray, sentinelSchedule } from "../src/spikes/sentinel.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const START = Date.parse("2026-10-05T00:00:00Z"); // a Monday

/** Fourteen days of one principal's hourly failures, drawn from `rate(at)` (Poisson), seeded. */
function series(principal: string, rate: (at: number) => number, seed = 1, days = 14): FailureBucket[] {
  const b = new RowBuilder(seededRandom(seed));
  for (let at = START; at < START + days * DAY_MS; at += HOUR_MS) b.add("storage-blob", "stmlprod", principal, "10.0.0.1", at, b.poisson(rate(at)));
  return b.build();
}

const kinds = (rows: FailureBucket[], principal: string): Set<string> => new Set(backtest(rows).spikes.filter((s) => s.principal === principal).map((s) => s.kind));
const weekend = (at: number): boolean => [0, 6].includes(new Date(at).getUTCDay());

describe("the longer horizon: slow ramps, persistent newcomers, campaigns", () => {
  it("flags a principal whose failures climb steadily over days, from before the climb began", () => {
    for (const seed of [1, 2, 3]) {
      const rows = series("etl", (at) => 2 + Math.max(0, (at - START - 7 * DAY_MS) / DAY_MS) * 2, seed);
      const ramps = backtest(rows).spikes.filter((s) => s.kind === "ramp");
      expect(ramps.length, `seed ${seed}`).toBeGreaterThan(0);
      // The baseline it reports is the day before the climb's span, not a baseline the climb has dragged up.
      for (const ramp of ramps) expect(ramp.failures).toBeGreaterThanOrEqual(1.5 * ramp.baseline);
    }
  });

  // Known limit: a step that lands a day or two after a strong weekend dip can chain with the weekend's return into
  // rises on five days in a row; telling those apart needs the same weekday a week earlier (a 14-day lookback).
  it("does not call a step change after a deploy, weekly seasonality or a steady noisy principal a ramp", () => {
    for (const seed of [1, 2, 3, 4]) {
      const deploy = START + 9 * DAY_MS + 14 * HOUR_MS;
      const step = series("ci", (at) => (at >= deploy ? 37.5 : 15), seed);
      const office = series("office", (at) => (weekend(at) ? 0.5 : new Date(at).getUTCHours() >= 8 && new Date(at).getUTCHours() < 18 ? 12 : 2), seed);
      const steady = series("steady", () => 25, seed);
      for (const [rows, principal] of [[step, "ci"], [office, "office"], [steady, "steady"]] as const) expect(kinds(rows, principal).has("ramp"), `${principal} seed ${seed}`).toBe(false);
    }
  });

  it("flags a principal never seen before that fails about once an hour for days (each hour too few to be a spike)", () => {
    const rows = [...series("other", () => 3), ...series("newcomer", (at) => (at >= START + 9 * DAY_MS ? 1 : 0), 2).filter((r) => r.principal === "newcomer")];
    const all = backtest(rows).spikes;
    const persistent = all.filter((s) => s.kind === "persistent" && s.principal === "newcomer");
    expect(persistent.length).toBeGreaterThan(0);
    // Only after it has persisted for half a day (12 hourly buckets), never before it began.
    expect(persistent[0]!.window.end.getTime()).toBeGreaterThanOrEqual(START + 9 * DAY_MS + 12 * HOUR_MS);
    expect(all.some((s) => s.kind === "persistent" && s.principal === "other")).toBe(false);
  });

  it("flags credential stuffing (many principals, many IPs, one or two attempts each) on its target, not a holiday's end", () => {
    const b = new RowBuilder(seededRandom(5));
    const holiday = (at: number): boolean => weekend(at) || (at >= START + 10 * DAY_MS && at < START + 12 * DAY_MS);
    for (let at = START; at < START + 15 * DAY_MS; at += HOUR_MS) {
      const working = !holiday(at) && new Date(at).getUTCHours() >= 8 && new Date(at).getUTCHours() < 18;
      for (let u = 0; u < 100; u++) if (b.random() < (working ? 0.03 : 0.003)) b.add("entra-user", "Azure Machine Learning", `user${u}`, "198.18.0.10", at, 1);
    }
    const quiet = backtest(b.build()).spikes.filter((s) => s.kind === "campaign");
    expect(quiet).toEqual([]);
    const stuffingAt = START + 13 * DAY_MS + 2 * HOUR_MS;
    for (let bot = 0; bot < 60; bot++) b.add("entra-user", "Azure Machine Learning", `victim${bot % 45}`, `100.64.0.${bot + 1}`, stuffingAt, 1);
    const campaigns = backtest(b.build()).spikes.filter((s) => s.kind === "campaign");
    expect(campaigns.map((s) => s.window.start.getTime())).toContain(stuffingAt);
    expect(campaigns.every((s) => s.target === "Azure Machine Learning" && s.principal === "*")).toBe(true);
  });
});

describe("Microsoft Sentinel's brute-force and password-spray rules, ported (thresholds from their YAML)", () => {
  const at = Date.parse("2026-11-24T10:00:00Z");
  const end = new Date(Date.parse("2026-11-25T00:00:00Z"));
  const row = (principal: string, ipAddress: string, failures: number, bucket = at): FailureBucket => ({ source: "entra-user", target: "Azure Portal", principal, ipAddress, bucket: new Date(bucket), failures, firstSeen: new Date(bucket), lastSeen: new Date(bucket) });
  const principals = (n: number) => Array.from({ length: n }, (_, i) => row(`p${i}`, "203.0.113.9", 1));

  it("SigninPasswordSpray: 5 distinct principals from one IP in a window, over 3 days", () => {
    expect(passwordSpray(principals(5), end).map((d) => d.key)).toEqual(["entra-user|*|203.0.113.9"]);
    expect(passwordSpray(principals(4), end)).toEqual([]);
    expect(passwordSpray(principals(5).map((r) => ({ ...r, bucket: new Date(end.getTime() - 3 * DAY_MS - HOUR_MS) })), end)).toEqual([]);
  });

  it("SigninBruteForce-AzurePortal: more than 25 deviations with only failures, i.e. 27 in one session", () => {
    expect(bruteForcePortal([row("a", "192.0.2.1", 27)], end)).toHaveLength(1);
    expect(bruteForcePortal([row("a", "192.0.2.1", 26)], end)).toEqual([]);
  });

  it("FailedLogonToAzurePortal: 20 failures in a day, or 5 from 2 IPs", () => {
    expect(failedLogonPortal([row("a", "192.0.2.1", 20)], end)).toHaveLength(1);
    expect(failedLogonPortal([row("a", "192.0.2.1", 19)], end)).toEqual([]);
    expect(failedLogonPortal([row("a", "192.0.2.1", 3), row("a", "192.0.2.2", 2, at + HOUR_MS)], end)).toHaveLength(1);
    expect(failedLogonPortal([row("a", "192.0.2.1", 4)], end)).toEqual([]);
  });

  it("DistribPassCrackAttempt: more than 30 failures from 3 or more locations (IPs) in a day", () => {
    const spread = (n: number) => [row("a", "192.0.2.1", n - 2), row("a", "192.0.2.2", 1), row("a", "192.0.2.3", 1)];
    expect(distributedCracking(spread(31), end)).toHaveLength(1);
    expect(distributedCracking(spread(30), end)).toEqual([]);
  });

  it("runs on the rules' daily schedule back from the end of the period", () => {
    const runs = sentinelSchedule([row("a", "192.0.2.1", 20)], new Date(end.getTime() - 3 * DAY_MS), end);
    expect(runs.map((d) => d.window.end.toISOString())).toEqual(["2026-11-25T00:00:00.000Z"]);
  });
});

describe("labelled sets are deterministic", () => {
  it("the same seed builds the same rows", async () => {
    const { enterpriseFortnight, holidayMonth } = await import("../src/spikes/labelled-sets.js");
    expect(enterpriseFortnight(3).rows).toEqual(enterpriseFortnight(3).rows);
    expect(holidayMonth(3).rows).toEqual(holidayMonth(3).rows);
    expect(holidayMonth(3).rows).not.toEqual(holidayMonth(4).rows);
  });
});
