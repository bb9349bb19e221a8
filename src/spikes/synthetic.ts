import { seededRandom } from "../random.js";
import type { FailureBucket } from "./detect.js";

export type Scenario = "diurnal" | "noisy-steady" | "brute-force" | "spray" | "slow-ramp" | "new-principal";

export interface Label {
  scenario: Scenario;
  /** Matches a principal spike (source, target, principal) or a spray (source, "*", ip). */
  key: string;
  attack: boolean;
}

export const spikeKey = (source: string, target: string, principal: string): string => `${source}|${target}|${principal}`;

/**
 * A labelled week of failed-authentication counts, hourly, ending at `now` (the last hour is the detection window):
 * normal diurnal traffic and a noisy but steady service principal (not attacks), and brute force on one endpoint,
 * password sprays, a slow ramp and new principals (attacks). Deterministic for a seed.
 */
export function syntheticFailures(now: Date, seed = 1): { rows: FailureBucket[]; labels: Label[]; windowStart: Date; windowEnd: Date } {
  const random = seededRandom(seed);
  const windowEnd = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  const windowStart = new Date(windowEnd.getTime() - 3_600_000);
  const hours = 7 * 24;
  const rows: FailureBucket[] = [];
  const labels: Label[] = [];
  const emit = (source: string, target: string, principal: string, ipAddress: string, hourIndex: number, failures: number): void => {
    if (failures <= 0) return;
    const bucket = new Date(windowStart.getTime() - (hours - 1 - hourIndex) * 3_600_000);
    rows.push({ source, target, principal, ipAddress, bucket, failures, firstSeen: new Date(bucket.getTime() + 60_000), lastSeen: new Date(bucket.getTime() + 3_000_000) });
  };
  const poisson = (mean: number): number => {
    let k = 0;
    for (let p = Math.exp(-mean), s = p, u = random(); u > s && k < 1000; k++) {
      p *= mean / (k + 1);
      s += p;
    }
    return k;
  };
  const hourOfDay = (i: number): number => new Date(windowStart.getTime() - (hours - 1 - i) * 3_600_000).getUTCHours();
  const diurnal = (i: number): number => (hourOfDay(i) >= 8 && hourOfDay(i) < 18 ? 3 : 0.4);
  const ip = (): string => `203.0.113.${Math.floor(random() * 250) + 1}`;

  for (let u = 0; u < 20; u++) {
    const principal = `user${u}@contoso.example`;
    const base = 1 + random() * 3;
    for (let i = 0; i < hours; i++) emit("entra-user", "Azure Machine Learning", principal, ip(), i, poisson(base * diurnal(i)));
    labels.push({ scenario: "diurnal", key: spikeKey("entra-user", "Azure Machine Learning", principal), attack: false });
  }
  for (let s = 0; s < 3; s++) {
    const principal = `sp-batch-scoring-${s}`;
    for (let i = 0; i < hours; i++) emit("entra-service-principal", "Azure Storage", principal, "10.1.0.4", i, poisson(25));
    labels.push({ scenario: "noisy-steady", key: spikeKey("entra-service-principal", "Azure Storage", principal), attack: false });
  }
  for (let e = 0; e < 4; e++) {
    const target = `mlw-prod/endpoint-${e}`;
    for (let i = 0; i < hours; i++) emit("aml-online-endpoint", target, "authType:key", ip(), i, i === hours - 1 ? 40 + Math.floor(random() * 40) : poisson(0.3));
    labels.push({ scenario: "brute-force", key: spikeKey("aml-online-endpoint", target, "authType:key"), attack: true });
  }
  for (let s = 0; s < 3; s++) {
    const attacker = `198.51.100.${10 + s}`;
    const victims = 12 + Math.floor(random() * 20);
    for (let v = 0; v < victims; v++) emit("entra-user", "Azure Machine Learning", `victim${s}-${v}@contoso.example`, attacker, hours - 1, 1 + Math.floor(random() * 2));
    labels.push({ scenario: "spray", key: spikeKey("entra-user", "*", attacker), attack: true });
  }
  for (let r = 0; r < 3; r++) {
    const principal = `ramp-${r}@contoso.example`;
    for (let i = 0; i < hours; i++) emit("storage-blob", "stmlprod", principal, "192.0.2.7", i, poisson((30 * i) / hours));
    labels.push({ scenario: "slow-ramp", key: spikeKey("storage-blob", "stmlprod", principal), attack: true });
  }
  for (let n = 0; n < 4; n++) {
    const principal = `new-app-${n}`;
    emit("key-vault", "kv-ml-prod", principal, ip(), hours - 1, 12 + Math.floor(random() * 10));
    labels.push({ scenario: "new-principal", key: spikeKey("key-vault", "kv-ml-prod", principal), attack: true });
  }
  return { rows, labels, windowStart, windowEnd };
}

/** Precision and recall of a detector's keys against the labels (keys not labelled count as false positives). */
export function score(detected: ReadonlySet<string>, labels: readonly Label[]): { precision: number; recall: number; truePositives: number; falsePositives: number; falseNegatives: number; missed: Scenario[] } {
  const attacks = labels.filter((l) => l.attack);
  const truePositives = attacks.filter((l) => detected.has(l.key)).length;
  const falsePositives = [...detected].filter((key) => !attacks.some((l) => l.key === key)).length;
  const falseNegatives = attacks.length - truePositives;
  return {
    precision: truePositives + falsePositives === 0 ? 1 : Number((truePositives / (truePositives + falsePositives)).toFixed(2)),
    recall: attacks.length === 0 ? 1 : Number((truePositives / attacks.length).toFixed(2)),
    truePositives,
    falsePositives,
    falseNegatives,
    missed: [...new Set(attacks.filter((l) => !detected.has(l.key)).map((l) => l.scenario))],
  };
}
