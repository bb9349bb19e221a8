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

/** The longer horizon looks back 24 hours: an alert up to a day after an attack ends is still about that attack. */
const AFTERGLOW_MS = 86_400_000;

export interface Detection {
  key: string;
  window: { start: Date; end: Date };
}

export interface SetScore {
  /** Of what an analyst would triage (each attack once, however many of its keys were flagged; each other key once). */
  precision: number;
  /** Of distinct flagged keys (one alert per key after deduplication). */
  alertPrecision: number;
  recall: number;
  /** Distinct keys flagged while an attack that holds them was under way. */
  truePositives: number;
  /** Distinct keys flagged at least once when no attack holding them was under way (or had just ended). */
  falsePositives: number;
  attacks: number;
  caught: number;
  /** Scenarios with at least one attack not caught. */
  missed: string[];
  falsePositiveKeys: string[];
  /** Per attack: hours from its start to the end of the first window that flagged it (null: never). */
  hoursToDetect: Array<{ scenario: string; hours: number | null }>;
}

/**
 * Precision over what is flagged and recall over labelled attacks (an attack with many principals and IPs is caught
 * when any of them is flagged while it runs). A key flagged when none of its attacks was under way is a false positive,
 * even if it is also flagged during one (a target's campaign alert on an ordinary Monday is wrong). Precision counts each caught attack once, so a method that raises one
 * alert per victim is not rewarded for the flood; `alertPrecision` counts every distinct key.
 */
export function scoreDetections(detections: readonly Detection[], set: Pick<LabelledSet, "attacks">): SetScore {
  const attacksByKey = new Map<string, Attack[]>();
  for (const attack of set.attacks) for (const key of attack.keys) attacksByKey.set(key, [...(attacksByKey.get(key) ?? []), attack]);
  const hit = new Set<string>();
  const firstAlert = new Map<Attack, number>();
  const flagged = new Set<string>();
  const astray = new Set<string>();
  for (const d of detections) {
    flagged.add(d.key);
    let about = false;
    for (const attack of attacksByKey.get(d.key) ?? []) {
      if (d.window.start.getTime() < attack.end.getTime() + AFTERGLOW_MS && d.window.end > attack.start) {
        about = true;
        hit.add(d.key);
        firstAlert.set(attack, Math.min(firstAlert.get(attack) ?? Infinity, d.window.end.getTime()));
      }
    }
    if (!about) astray.add(d.key);
  }
  const falsePositiveKeys = [...astray].sort();
  const ratio = (a: number, b: number): number => (b === 0 ? 1 : Number((a / b).toFixed(2)));
  return {
    precision: ratio(firstAlert.size, firstAlert.size + falsePositiveKeys.length),
    alertPrecision: ratio(hit.size, hit.size + falsePositiveKeys.length),
    recall: ratio(firstAlert.size, set.attacks.length),
    truePositives: hit.size,
    falsePositives: falsePositiveKeys.length,
    attacks: set.attacks.length,
    caught: firstAlert.size,
    missed: [...new Set(set.attacks.filter((a) => !firstAlert.has(a)).map((a) => a.scenario))],
    falsePositiveKeys,
    hoursToDetect: set.attacks.map((a) => ({ scenario: a.scenario, hours: firstAlert.has(a) ? Math.max(0, firstAlert.get(a)! - a.start.getTime()) / 3_600_000 : null })),
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
    // A spray's victims all fail against one target, so an alert on that target's distinct principals is about it too.
    attacks: data.labels.filter((l) => l.attack).map((l) => ({ scenario: l.scenario, keys: l.scenario === "spray" ? [l.key, "entra-user|Azure Machine Learning|*"] : [l.key], start: l.scenario === "slow-ramp" ? first : data.windowStart, end: data.windowEnd })),
    benign: data.labels.filter((l) => !l.attack).map((l) => ({ scenario: l.scenario, key: l.key })),
  };
}

/** Accumulates hourly rows as the query would summarise them: one row per source, target, principal, IP and bucket. */
export class RowBuilder {
  private readonly rows = new Map<string, FailureBucket>();

  constructor(readonly random: () => number) {}

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
