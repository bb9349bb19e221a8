import { backtest, type WindowSpike } from "./backtest.js";
import { DEFAULT_CHECKS } from "./checks.js";
import { enterpriseFortnight, holidayMonth } from "./labelled-sets.js";
import { scoreDetections, syntheticWeekSet, type Detection, type LabelledSet, type SetScore } from "./labelled.js";
import { sentinelSchedule } from "./sentinel.js";
import { spikeKey } from "./synthetic.js";

export const METHODS = ["amlguard", "amlguard-hourly-only", "sentinel-rules", "fixed-threshold"] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Record<Method, string> = {
  "amlguard": "amlguard (hourly + longer horizon)",
  "amlguard-hourly-only": "amlguard, hourly checks only",
  "sentinel-rules": "Sentinel rules, ported",
  "fixed-threshold": "fixed threshold, 20 failures an hour",
};

export interface SetEvaluation {
  set: string;
  generator: string;
  rows: number;
  windows: number;
  evalStart: Date;
  evalEnd: Date;
  scores: Record<Method, SetScore>;
  /** What amlguard flagged, window by window (for tests; the bench prints the scores). */
  spikes: WindowSpike[];
  /** Slow-ramp attacks in the set; how many each method caught, and the hours from each ramp's start to its first alert. */
  ramps: { attacks: number; caught: Record<Method, number>; hoursToDetect: Record<Method, Array<number | null>>; byRampCheck: { caught: number; hoursToDetect: Array<number | null> } };
}

/** The labelled sets: today's synthetic week and two built differently, each for one seed. */
export function labelledSets(seed = 1): LabelledSet[] {
  return [syntheticWeekSet(seed), enterpriseFortnight(seed), holidayMonth(seed)];
}

/**
 * Every method over the same rows and the same period: every hourly window after the baseline (what the timer would
 * have seen), Sentinel's rules on their own daily schedule over that period, the fixed threshold per hourly window.
 */
export function evaluateSet(set: LabelledSet): SetEvaluation {
  const full = backtest(set.rows, DEFAULT_CHECKS, { eachWindow: true, only: "all" });
  const hourly = backtest(set.rows, DEFAULT_CHECKS, { eachWindow: true, only: "hourly" });
  const evalStart = new Date(full.from.getTime() + (DEFAULT_CHECKS.lookbackDays - 1) * 86_400_000);
  const evalEnd = full.to;
  const asDetections = (spikes: typeof full.spikes): Detection[] => spikes.map((s) => ({ key: spikeKey(s.source, s.target, s.principal), window: s.window }));
  const detections: Record<Method, Detection[]> = {
    "amlguard": asDetections(full.spikes),
    "amlguard-hourly-only": asDetections(hourly.spikes),
    "sentinel-rules": sentinelSchedule(set.rows, evalStart, evalEnd),
    "fixed-threshold": fixedThresholdWindows(set, evalStart, 20),
  };
  const scores = Object.fromEntries(METHODS.map((m) => [m, scoreDetections(detections[m], set)])) as Record<Method, SetScore>;
  const ramps = set.attacks.filter((a) => a.scenario === "slow-ramp");
  const byRampCheck = scoreDetections(asDetections(full.spikes.filter((s) => s.kind === "ramp")), { attacks: ramps });
  const rampScores = Object.fromEntries(METHODS.map((m) => [m, scoreDetections(detections[m], { attacks: ramps })])) as Record<Method, SetScore>;
  return {
    set: set.name,
    generator: set.generator,
    rows: set.rows.length,
    windows: full.windows,
    evalStart,
    evalEnd,
    scores,
    spikes: full.spikes,
    ramps: {
      attacks: ramps.length,
      caught: Object.fromEntries(METHODS.map((m) => [m, rampScores[m].caught])) as Record<Method, number>,
      hoursToDetect: Object.fromEntries(METHODS.map((m) => [m, rampScores[m].hoursToDetect.map((h) => h.hours)])) as Record<Method, Array<number | null>>,
      byRampCheck: { caught: byRampCheck.caught, hoursToDetect: byRampCheck.hoursToDetect.map((h) => h.hours) },
    },
  };
}

/** The straw man: a principal with at least `threshold` failures in an hourly window, every window of the period. */
function fixedThresholdWindows(set: LabelledSet, evalStart: Date, threshold: number): Detection[] {
  const totals = new Map<string, number>();
  for (const row of set.rows) {
    if (row.bucket < evalStart) continue;
    const id = [spikeKey(row.source, row.target, row.principal), row.bucket.getTime()].join("\u0000");
    totals.set(id, (totals.get(id) ?? 0) + row.failures);
  }
  return [...totals]
    .filter(([, failures]) => failures >= threshold)
    .map(([id]) => {
      const [key, at] = id.split("\u0000") as [string, string];
      return { key, window: { start: new Date(Number(at)), end: new Date(Number(at) + 3_600_000) } };
    });
}
