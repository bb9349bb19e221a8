import { beforeAll, describe, expect, it } from "vitest";
import { evaluateSet, labelledSets, METHODS, type SetEvaluation } from "../src/spikes/evaluate.js";
import { spikeKey } from "../src/spikes/synthetic.js";
import type { LabelledSet } from "../src/spikes/labelled.js";

let sets: LabelledSet[];
let results: SetEvaluation[];

beforeAll(() => {
  sets = labelledSets(1);
  results = sets.map(evaluateSet);
  // The run's figures, so a failing property can be read against them.
  for (const r of results) console.info(`${r.set}: ${METHODS.map((m) => `${m} P=${r.scores[m].precision} R=${r.scores[m].recall}`).join(" | ")}`);
}, 120_000);

describe("amlguard against Sentinel's rules and a fixed threshold, on three labelled sets from different generators", () => {
  it("every set holds attacks and benign look-alikes, and was scored over every window after its baseline", () => {
    expect(new Set(sets.map((s) => s.generator)).size).toBe(3);
    for (const [i, r] of results.entries()) {
      expect(sets[i]!.attacks.length).toBeGreaterThan(0);
      expect(sets[i]!.benign.length).toBeGreaterThan(0);
      expect(r.windows).toBe((r.evalEnd.getTime() - r.evalStart.getTime()) / 3_600_000);
    }
  });

  it("catches slow ramps on at least two sets with its ramp check, and every ramp in every set", () => {
    const withRamps = results.filter((r) => r.ramps.attacks > 0);
    expect(withRamps.length).toBeGreaterThanOrEqual(2);
    expect(withRamps.filter((r) => r.ramps.byRampCheck.caught > 0).length).toBeGreaterThanOrEqual(2);
    for (const r of withRamps) expect(r.ramps.caught.amlguard, r.set).toBe(r.ramps.attacks);
  });

  it("with precision no lower than the Sentinel port's, and recall no lower either, on every set", () => {
    for (const r of results) {
      expect(r.scores.amlguard.precision, r.set).toBeGreaterThanOrEqual(r.scores["sentinel-rules"].precision);
      expect(r.scores.amlguard.recall, r.set).toBeGreaterThanOrEqual(r.scores["sentinel-rules"].recall);
      expect(r.scores.amlguard.recall, r.set).toBeGreaterThanOrEqual(r.scores["fixed-threshold"].recall);
    }
  });

  it("the longer horizon adds recall (stuffing, low-and-slow sprays, persistent newcomers) without costing precision", () => {
    for (const r of results) {
      expect(r.scores.amlguard.recall, r.set).toBeGreaterThanOrEqual(r.scores["amlguard-hourly-only"].recall);
      expect(r.scores.amlguard.precision, r.set).toBeGreaterThanOrEqual(r.scores["amlguard-hourly-only"].precision);
    }
    const fortnight = results.find((r) => r.set.startsWith("enterprise-fortnight"))!;
    for (const scenario of ["credential-stuffing", "low-and-slow-spray", "persistent-newcomer"]) {
      expect(fortnight.scores["amlguard-hourly-only"].missed).toContain(scenario);
      expect(fortnight.scores.amlguard.missed).not.toContain(scenario);
    }
  });

  it("never calls a benign look-alike (steady noisy principal, CI rate change, nightly burst, password expiry) a ramp or newcomer", () => {
    for (const [i, r] of results.entries()) {
      const benign = new Set(sets[i]!.benign.map((b) => b.key));
      const longer = r.spikes.filter((s) => (s.kind === "ramp" || s.kind === "persistent") && benign.has(spikeKey(s.source, s.target, s.principal)));
      expect(longer.map((s) => `${s.kind} ${s.principal}`), r.set).toEqual([]);
    }
  });

  it("a false positive is named: every flagged key outside an attack is listed for the report", () => {
    for (const r of results) for (const m of METHODS) expect(r.scores[m].falsePositiveKeys.length).toBe(r.scores[m].falsePositives);
  });
});
