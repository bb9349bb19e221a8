/** One row of the spike query: failures of one principal/IP against one target in one bucket. */
export interface FailureBucket {
  source: string;
  target: string;
  principal: string;
  ipAddress: string;
  bucket: Date;
  failures: number;
  firstSeen: Date;
  lastSeen: Date;
}

export interface DetectionOptions {
  windowStart: Date;
  windowEnd: Date;
  bucketHours: number;
  lookbackDays: number;
  /** No spike below this many failures in the window, whatever the baseline (low volume is noise). */
  minFailures: number;
  /** Robust score (window minus same-hour baseline median, over its spread) at or above which it is a spike. */
  scoreThreshold: number;
  /** Distinct principals failing from one IP in the window that make a password spray. */
  sprayMinPrincipals: number;
}

export const DEFAULT_DETECTION = { bucketHours: 1, lookbackDays: 7, minFailures: 10, scoreThreshold: 4, sprayMinPrincipals: 5 } as const;

export interface Spike {
  /** principal and spray: this window against its same hour; ramp, persistent, campaign: the longer horizon (horizon.ts). */
  kind: "principal" | "spray" | "ramp" | "persistent" | "campaign";
  source: string;
  target: string;
  /** The principal, or for a spray the IP address. */
  principal: string;
  ipAddress: string;
  failures: number;
  /**
   * Median failures per bucket at the same hour of day over the baseline days (a spray: the busiest such hour). A ramp:
   * failures in the 24 hours the climb is measured from (four days earlier); a persistent newcomer: 0; a campaign:
   * distinct principals on the busiest comparable hour or day (horizon.ts).
   */
  baseline: number;
  score: number;
  distinctPrincipals: number;
  firstSeen: Date;
  lastSeen: Date;
}

interface Series {
  source: string;
  target: string;
  principal: string;
  ipAddress: string;
  counts: Map<number, number>;
  principals: Set<string>;
  windowPrincipals: Set<string>;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Scores the window against a seasonal, robust baseline: for each hour of the window, the same hour on the baseline
 * days gives a median and a spread (1.4826 × MAD, at least √median and 1, so a quiet baseline does not make every
 * failure a spike). The window's excess over the baseline, divided by that spread, is the score. A spike needs both a
 * high score and a minimum count. Principals never seen before score against a zero baseline; sprays are scored per
 * source IP, over all principals, against the busiest same hour (spread √ of it), and need several distinct principals.
 */
export function detectSpikes(rows: readonly FailureBucket[], options: DetectionOptions): Spike[] {
  const bucketMs = options.bucketHours * 3_600_000;
  const windowStart = options.windowStart.getTime();
  const windowEnd = options.windowEnd.getTime();
  const byPrincipal = new Map<string, Series>();
  const byIp = new Map<string, Series>();
  const add = (map: Map<string, Series>, key: string, row: FailureBucket, principal: string, ipAddress: string): void => {
    let series = map.get(key);
    if (!series) {
      series = { source: row.source, target: row.target, principal, ipAddress, counts: new Map(), principals: new Set(), windowPrincipals: new Set(), firstSeen: Infinity, lastSeen: 0 };
      map.set(key, series);
    }
    const at = row.bucket.getTime();
    series.counts.set(at, (series.counts.get(at) ?? 0) + row.failures);
    series.principals.add(row.principal);
    if (at >= windowStart && at < windowEnd) {
      series.windowPrincipals.add(row.principal);
      series.firstSeen = Math.min(series.firstSeen, row.firstSeen.getTime());
      series.lastSeen = Math.max(series.lastSeen, row.lastSeen.getTime());
    }
  };
  for (const row of rows) {
    add(byPrincipal, [row.source, row.target, row.principal].join("\u0000"), row, row.principal, row.ipAddress);
    if (row.ipAddress) add(byIp, [row.source, row.ipAddress].join("\u0000"), row, row.ipAddress, row.ipAddress);
  }
  const spikes: Spike[] = [];
  const score = (series: Series, kind: Spike["kind"]): void => {
    let failures = 0;
    let baseline = 0;
    let excess = 0;
    let spread = 0;
    for (let at = windowStart; at < windowEnd; at += bucketMs) {
      const observed = series.counts.get(at) ?? 0;
      const sameHour: number[] = [];
      for (let day = 1; day < options.lookbackDays; day++) sameHour.push(series.counts.get(at - day * 86_400_000) ?? 0);
      failures += observed;
      if (kind === "spray") {
        // An IP shared by many people (a NAT, a proxy) has failures from several principals every working hour, and
        // a week with a holiday in it makes its median hour quiet: a spray must beat its busiest same hour instead.
        // An attacker's IP has no history, so its baseline is 0 either way.
        const busiest = Math.max(0, ...sameHour);
        baseline += busiest;
        excess += observed - busiest;
        spread = Math.max(spread, Math.sqrt(busiest), 1);
        continue;
      }
      const med = median(sameHour);
      const mad = 1.4826 * median(sameHour.map((v) => Math.abs(v - med)));
      baseline += med;
      excess += observed - med;
      spread = Math.max(spread, mad, Math.sqrt(med), 1);
    }
    const value = excess / spread;
    const distinct = series.windowPrincipals.size;
    if (failures < options.minFailures || value < options.scoreThreshold) return;
    if (kind === "spray" && distinct < options.sprayMinPrincipals) return;
    spikes.push({
      kind,
      source: series.source,
      target: kind === "spray" ? "*" : series.target,
      principal: series.principal,
      ipAddress: series.ipAddress,
      failures,
      baseline,
      score: Number(value.toFixed(1)),
      distinctPrincipals: distinct,
      firstSeen: new Date(series.firstSeen),
      lastSeen: new Date(series.lastSeen),
    });
  };
  for (const series of byPrincipal.values()) score(series, "principal");
  for (const series of byIp.values()) score(series, "spray");
  return spikes.sort((a, b) => b.score - a.score);
}

/** The comparison method: a fixed number of failures per principal in the window. */
export function fixedThreshold(rows: readonly FailureBucket[], options: Pick<DetectionOptions, "windowStart" | "windowEnd">, threshold: number): Array<Pick<Spike, "source" | "target" | "principal" | "failures">> {
  const totals = new Map<string, { source: string; target: string; principal: string; failures: number }>();
  for (const row of rows) {
    const at = row.bucket.getTime();
    if (at < options.windowStart.getTime() || at >= options.windowEnd.getTime()) continue;
    const key = [row.source, row.target, row.principal].join("\u0000");
    const total = totals.get(key) ?? { source: row.source, target: row.target, principal: row.principal, failures: 0 };
    total.failures += row.failures;
    totals.set(key, total);
  }
  return [...totals.values()].filter((t) => t.failures >= threshold);
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
