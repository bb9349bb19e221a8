import { describe, expect, it } from "vitest";
import { DEFAULT_DETECTION, detectSpikes, fixedThreshold } from "../src/spikes/detect.js";
import { score, spikeKey, syntheticFailures } from "../src/spikes/synthetic.js";

describe("spike detection on a labelled synthetic week (brute force, spray, slow ramp, diurnal traffic, new principals)", () => {
  it("beats a fixed threshold: figures reported below", () => {
    const results = [1, 2, 3].map((seed) => {
      const data = syntheticFailures(new Date("2026-11-25T12:30:00Z"), seed);
      const options = { ...DEFAULT_DETECTION, windowStart: data.windowStart, windowEnd: data.windowEnd };
      const detected = new Set(detectSpikes(data.rows, options).map((s) => spikeKey(s.source, s.target, s.principal)));
      const fixed = new Set(fixedThreshold(data.rows, options, 20).map((s) => spikeKey(s.source, s.target, s.principal)));
      return { robust: score(detected, data.labels), fixed: score(fixed, data.labels) };
    });
    // The test output carries the figures (precision/recall per seed).
    console.info(`spike detection, robust seasonal baseline vs fixed threshold (20/h):\n${results.map((r, i) => `  seed ${i + 1}: robust P=${r.robust.precision} R=${r.robust.recall} (missed: ${r.robust.missed.join(",") || "none"}) | fixed P=${r.fixed.precision} R=${r.fixed.recall} (missed: ${r.fixed.missed.join(",") || "none"})`).join("\n")}`);
    for (const r of results) {
      expect(r.robust.precision).toBeGreaterThanOrEqual(0.9);
      expect(r.robust.recall).toBeGreaterThan(r.fixed.recall);
      expect(r.robust.precision).toBeGreaterThan(r.fixed.precision);
      expect(r.robust.missed).not.toContain("brute-force");
      expect(r.robust.missed).not.toContain("spray");
      expect(r.robust.missed).not.toContain("new-principal");
    }
  });

  it("normal diurnal peaks and a steady noisy principal are not spikes; a quiet baseline does not make one failure a spike", () => {
    const data = syntheticFailures(new Date("2026-11-25T10:30:00Z"), 9);
    const spikes = detectSpikes(data.rows, { ...DEFAULT_DETECTION, windowStart: data.windowStart, windowEnd: data.windowEnd });
    const flagged = new Set(spikes.map((s) => spikeKey(s.source, s.target, s.principal)));
    for (const label of data.labels.filter((l) => !l.attack)) expect(flagged.has(label.key), label.key).toBe(false);
    const one = detectSpikes([{ source: "key-vault", target: "kv", principal: "p", ipAddress: "", bucket: data.windowStart, failures: 3, firstSeen: data.windowStart, lastSeen: data.windowStart }], { ...DEFAULT_DETECTION, windowStart: data.windowStart, windowEnd: data.windowEnd });
    expect(one).toEqual([]);
  });
});
