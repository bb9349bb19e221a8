import type { FailureBucket, Spike } from "./detect.js";

const DAY_MS = 86_400_000;

/**
 * The longer horizon: what one window against its own hour cannot see. Days are 24-hour blocks ending at the window's
 * end (block 0 is the last 24 hours), so the diurnal cycle cancels out and a block never straddles a partial day.
 */
export interface HorizonOptions {
  windowStart: Date;
  windowEnd: Date;
  bucketHours: number;
  /** Days of rows the checks may look at (the query's lookback). */
  lookbackDays: number;
  /** Where the rows begin: a day before it is unknown, not quiet (a backtest's first windows, a short export). */
  historyStart?: Date;
  /** 24-hour blocks a ramp spans: each must rise over the one before, for `rampDays - 1` rises in a row. */
  rampDays: number;
  /** Each rise must exceed this many √(previous block): a steady principal's days go up and down at random. */
  rampStepZ: number;
  /** And at least this share of the average rise: a climb is even; a step plus a weekend is one big rise and flat days. */
  rampEvenness: number;
  /** The whole climb must exceed this many √(first block), and be at least `rampMinRatio` times it. */
  rampTotalZ: number;
  rampMinRatio: number;
  /** Failures in the last 24 hours a ramp needs (below that it is a trickle the hourly check will see if it grows). */
  rampMinFailures: number;
  /** A principal with no failures on any earlier day that fails in this many buckets of the last 24 hours persists. */
  persistentMinBuckets: number;
  /** Robust score at or above which the distinct principals failing against one target are a campaign. */
  campaignScore: number;
  /** And at least this many more distinct principals than the busiest comparable hour or day. */
  campaignMinPrincipals: number;
}

export const DEFAULT_HORIZON = { rampDays: 5, rampStepZ: 1, rampEvenness: 0.5, rampTotalZ: 4, rampMinRatio: 1.5, rampMinFailures: 24, persistentMinBuckets: 12, campaignScore: 4, campaignMinPrincipals: 10 } as const;

/** Earlier days needed before "never failed before" or "the busiest earlier day" means anything. */
const MIN_KNOWN_DAYS = 3;

interface PrincipalDays {
  row: FailureBucket;
  days: number[];
  bucketsToday: Set<number>;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Slow ramps and persistent newcomers, per principal. A ramp is `rampDays` 24-hour blocks each above the one before
 * (a step change after a deploy rises once, a weekend or holiday returns once, a noisy principal wanders: none rises
 * day after day). The comparison reaches back to before the ramp began, so it cannot move its own baseline
 * as the hourly check's does. A persistent newcomer never failed on any known earlier day and now fails hour after
 * hour, each hour too few to be a spike (a low-and-slow guess at one account).
 */
export function detectSlowRamps(rows: readonly FailureBucket[], options: HorizonOptions): Spike[] {
  const end = options.windowEnd.getTime();
  const knownDays = knownDaysOf(options);
  const series = new Map<string, PrincipalDays>();
  for (const row of rows) {
    const day = dayIndex(row.bucket.getTime(), end);
    if (day < 0 || day >= knownDays) continue;
    const key = [row.source, row.target, row.principal].join("\u0000");
    let entry = series.get(key);
    if (!entry) {
      entry = { row, days: new Array<number>(knownDays).fill(0), bucketsToday: new Set(), firstSeen: Infinity, lastSeen: 0 };
      series.set(key, entry);
    }
    entry.days[day]! += row.failures;
    if (day === 0) {
      entry.row = row;
      entry.bucketsToday.add(row.bucket.getTime());
      entry.firstSeen = Math.min(entry.firstSeen, row.firstSeen.getTime());
      entry.lastSeen = Math.max(entry.lastSeen, row.lastSeen.getTime());
    }
  }
  const spikes: Spike[] = [];
  for (const { row, days, bucketsToday, firstSeen, lastSeen } of series.values()) {
    const today = days[0]!;
    if (today === 0) continue;
    const base = { source: row.source, target: row.target, principal: row.principal, ipAddress: row.ipAddress, failures: today, distinctPrincipals: 1, firstSeen: new Date(firstSeen), lastSeen: new Date(lastSeen) };
    const ramp = rampScore(days, options);
    if (ramp !== undefined) {
      spikes.push({ ...base, kind: "ramp", baseline: days[options.rampDays - 1]!, score: round(ramp) });
    } else if (knownDays - 1 >= MIN_KNOWN_DAYS && days.slice(1).every((d) => d === 0) && bucketsToday.size >= options.persistentMinBuckets) {
      spikes.push({ ...base, kind: "persistent", baseline: 0, score: bucketsToday.size });
    }
  }
  return spikes;
}

/**
 * How far the last day rose above the first day of the span, in √ of that day; undefined when it is not a ramp. Days are
 * Poisson-like, so a steady principal's rises are random: four in a row, each above √ of the day before, and a total
 * rise of 4√ and half again, leave it a chance under 1 in 1,000 a day. A step (a deploy, the end of a holiday or
 * weekend) rises on one day, or two where a block straddles it, not on four; a step next to a weekend can make four
 * rises, but uneven ones, so every rise must also be at least half (`rampEvenness`) of the average rise.
 */
function rampScore(days: readonly number[], options: HorizonOptions): number | undefined {
  const span = options.rampDays;
  if (days.length < span || days[0]! < options.rampMinFailures) return undefined;
  const first = days[span - 1]!;
  const rise = days[0]! - first;
  if (days[0]! < options.rampMinRatio * first || rise < options.rampTotalZ * Math.sqrt(Math.max(first, 1))) return undefined;
  const evenRise = (options.rampEvenness * rise) / (span - 1);
  for (let i = 0; i < span - 1; i++) {
    const previous = days[i + 1]!;
    if (days[i]! - previous < Math.max(options.rampStepZ * Math.sqrt(Math.max(previous, 1)), evenRise)) return undefined;
  }
  return rise / Math.sqrt(Math.max(first, 1));
}

interface TargetSeries {
  row: FailureBucket;
  perBucket: Map<number, Set<string>>;
  failuresToday: number;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Credential stuffing and low-and-slow sprays: many principals, each failing too rarely to stand out, from IPs that
 * each try too few to be a spray. Counted per source and target as distinct failing principals, against the busiest
 * same hour (for a burst) and the busiest 24-hour block (for a campaign spread over a day) of the earlier days. The
 * busiest, not the median: a week with a holiday or a weekend in it must not make an ordinary Monday look like a
 * campaign.
 */
export function detectCampaigns(rows: readonly FailureBucket[], options: HorizonOptions): Spike[] {
  const end = options.windowEnd.getTime();
  const bucketMs = options.bucketHours * 3_600_000;
  const knownDays = knownDaysOf(options);
  const historyStart = options.historyStart?.getTime() ?? -Infinity;
  const targets = new Map<string, TargetSeries>();
  for (const row of rows) {
    const at = row.bucket.getTime();
    const day = dayIndex(at, end);
    if (day < 0 || day >= knownDays) continue;
    const key = [row.source, row.target].join("\u0000");
    let series = targets.get(key);
    if (!series) {
      series = { row, perBucket: new Map(), failuresToday: 0, firstSeen: Infinity, lastSeen: 0 };
      targets.set(key, series);
    }
    let principals = series.perBucket.get(at);
    if (!principals) series.perBucket.set(at, (principals = new Set()));
    principals.add(row.principal);
    if (day === 0) {
      series.failuresToday += row.failures;
      series.firstSeen = Math.min(series.firstSeen, row.firstSeen.getTime());
      series.lastSeen = Math.max(series.lastSeen, row.lastSeen.getTime());
    }
  }
  const spikes: Spike[] = [];
  for (const series of targets.values()) {
    // The burst: each hour of the window against the busiest same hour of the known earlier days.
    let excess = 0;
    let spread = 1;
    let baselineHourly = 0;
    const windowPrincipals = new Set<string>();
    for (let at = options.windowStart.getTime(); at < end; at += bucketMs) {
      for (const principal of series.perBucket.get(at) ?? []) windowPrincipals.add(principal);
      const observed = series.perBucket.get(at)?.size ?? 0;
      let busiest = 0;
      for (let day = 1; day < knownDays && at - day * DAY_MS >= historyStart; day++) busiest = Math.max(busiest, series.perBucket.get(at - day * DAY_MS)?.size ?? 0);
      excess += observed - busiest;
      baselineHourly += busiest;
      spread = Math.max(spread, Math.sqrt(busiest));
    }
    // The day: distinct principals in the last 24 hours against the busiest earlier 24-hour block.
    const perDay = Array.from({ length: knownDays }, () => new Set<string>());
    for (const [at, principals] of series.perBucket) for (const p of principals) perDay[dayIndex(at, end)]!.add(p);
    const today = perDay[0]!.size;
    const busiestDay = Math.max(0, ...perDay.slice(1).map((s) => s.size));
    const daily = knownDays - 1 >= MIN_KNOWN_DAYS ? { excess: today - busiestDay, score: (today - busiestDay) / Math.max(Math.sqrt(busiestDay), 1) } : undefined;
    const hourly = { excess, score: excess / spread };
    const fires = (c: { excess: number; score: number } | undefined): c is { excess: number; score: number } =>
      c !== undefined && c.excess >= options.campaignMinPrincipals && c.score >= options.campaignScore;
    if (!fires(hourly) && !fires(daily)) continue;
    const byDay = fires(daily) && (!fires(hourly) || daily.score > hourly.score);
    spikes.push({
      kind: "campaign",
      source: series.row.source,
      target: series.row.target,
      principal: "*",
      ipAddress: "",
      failures: series.failuresToday,
      baseline: byDay ? busiestDay : baselineHourly,
      score: round(byDay ? daily!.score : hourly.score),
      distinctPrincipals: byDay ? today : windowPrincipals.size,
      firstSeen: new Date(series.firstSeen),
      lastSeen: new Date(series.lastSeen),
    });
  }
  return spikes;
}

/** 0 for the 24 hours ending at `end`, 1 for the 24 before, …; negative at or after `end`. */
function dayIndex(at: number, end: number): number {
  return at >= end ? -1 : Math.floor((end - 1 - at) / DAY_MS);
}

/** Whole 24-hour blocks, ending at the window's end, that the rows cover (at most the lookback). */
function knownDaysOf(options: HorizonOptions): number {
  const span = options.historyStart ? Math.floor((options.windowEnd.getTime() - options.historyStart.getTime()) / DAY_MS) : options.lookbackDays;
  return Math.max(0, Math.min(options.lookbackDays, span));
}

function round(value: number): number {
  return Number(value.toFixed(1));
}
