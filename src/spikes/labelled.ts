import type { FailureBucket } from "./detect.js";
import { syntheticFailures } from "./synthetic.js";

/** One labelled attack: any of its keys flagged in a window that overlaps [start, end) catches it. */
export interface Attack {
  scenario: string;
  keys: string[];
  start: Date;
  end: Date;
}

/** A labelled set of hourly failure rows; every key not in an attack is benign (flagging it is a false positive). */
export interface LabelledSet {
  name: string;
  /** How the set was built, for the report. */
  generator: string;
  rows: FailureBucket[];
  attacks: Attack[];
  /** Benign cases worth naming (steady noisy principals, rate changes, calendar shifts), for tests and the report. */
  benign: Array<{ scenario: string; key: string }>;
}

export interface Detection {
  key: string;
  window: { start: Date; end: Date };
}

export interface SetScore {
  precision: number;
  recall: number;
  /** Distinct keys flagged while an attack that holds them was under way. */
  truePositives: number;
  /** Distinct keys flagged that never were. */
  falsePositives: number;
  attacks: number;
  caught: number;
  /** Scenarios with at least one attack not caught. */
  missed: string[];
  falsePositiveKeys: string[];
}

/**
 * Precision over distinct flagged keys (what an analyst gets after deduplication: one alert per key) and recall over
 * labelled attacks (an attack with many principals and IPs is caught when any of them is flagged while it runs).
 */
export function scoreDetections(detections: readonly Detection[], set: Pick<LabelledSet, "attacks">): SetScore {
  const attacksByKey = new Map<string, Attack[]>();
  for (const attack of set.attacks) for (const key of attack.keys) attacksByKey.set(key, [...(attacksByKey.get(key) ?? []), attack]);
  const hit = new Set<string>();
  const caught = new Set<Attack>();
  const flagged = new Set<string>();
  for (const d of detections) {
    flagged.add(d.key);
    for (const attack of attacksByKey.get(d.key) ?? []) {
      if (d.window.start < attack.end && d.window.end > attack.start) {
        hit.add(d.key);
        caught.add(attack);
      }
    }
  }
  const falsePositiveKeys = [...flagged].filter((k) => !hit.has(k)).sort();
  const ratio = (a: number, b: number): number => (b === 0 ? 1 : Number((a / b).toFixed(2)));
  return {
    precision: ratio(hit.size, flagged.size),
    recall: ratio(caught.size, set.attacks.length),
    truePositives: hit.size,
    falsePositives: falsePositiveKeys.length,
    attacks: set.attacks.length,
    caught: caught.size,
    missed: [...new Set(set.attacks.filter((a) => !caught.has(a)).map((a) => a.scenario))],
    falsePositiveKeys,
  };
}

/** Today's labelled synthetic week (synthetic.ts), as a labelled set: the attacks are in its last hour, the ramps all week. */
export function syntheticWeekSet(seed = 1): LabelledSet {
  const data = syntheticFailures(new Date("2026-11-25T12:30:00Z"), seed);
  const first = new Date(Math.min(...data.rows.map((r) => r.bucket.getTime())));
  return {
    name: `synthetic-week (seed ${seed})`,
    generator: "src/spikes/synthetic.ts: the week the detector was designed on",
    rows: data.rows,
    attacks: data.labels.filter((l) => l.attack).map((l) => ({ scenario: l.scenario, keys: [l.key], start: l.scenario === "slow-ramp" ? first : data.windowStart, end: data.windowEnd })),
    benign: data.labels.filter((l) => !l.attack).map((l) => ({ scenario: l.scenario, key: l.key })),
  };
}

/** Accumulates hourly rows as the query would summarise them: one row per source, target, principal, IP and bucket. */
export class RowBuilder {
  private readonly rows = new Map<string, FailureBucket>();

  constructor(private readonly random: () => number) {}

  add(source: string, target: string, principal: string, ipAddress: string, bucketMs: number, failures: number): void {
    if (failures <= 0) return;
    const key = [source, target, principal, ipAddress, bucketMs].join("\u0000");
    const first = bucketMs + Math.floor(this.random() * 3_000_000);
    const last = failures > 1 ? Math.min(bucketMs + 3_599_000, first + Math.floor(this.random() * 600_000)) : first;
    const existing = this.rows.get(key);
    if (existing) {
      existing.failures += failures;
      if (first < existing.firstSeen.getTime()) existing.firstSeen = new Date(first);
      if (last > existing.lastSeen.getTime()) existing.lastSeen = new Date(last);
      return;
    }
    this.rows.set(key, { source, target, principal, ipAddress, bucket: new Date(bucketMs), failures, firstSeen: new Date(first), lastSeen: new Date(last) });
  }

  poisson(mean: number): number {
    let k = 0;
    for (let p = Math.exp(-mean), s = p, u = this.random(); u > s && k < 1000; k++) {
      p *= mean / (k + 1);
      s += p;
    }
    return k;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  build(): FailureBucket[] {
    return [...this.rows.values()].sort((a, b) => a.bucket.getTime() - b.bucket.getTime());
  }
}
