/**
 * Spike detection benchmark (npx tsx bench/spikes.ts [-- --json] [-- --seeds N]; part of npm run bench): precision and
 * recall of amlguard, of Microsoft Sentinel's brute-force and password-spray rules ported over the same rows, and of a
 * fixed threshold, on each labelled set (today's synthetic week and two sets built differently), for seeds 1..N, all
 * from one run. Every method sees every hourly window after the 6-day baseline (Sentinel's rules: their daily runs).
 */
import { evaluateSet, labelledSets, METHOD_LABELS, METHODS, type Method, type SetEvaluation } from "../src/spikes/evaluate.js";

const arg = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const json = process.argv.includes("--json");
const SEEDS = Array.from({ length: Math.max(1, arg("seeds", 3)) }, (_, i) => i + 1);

const bySet = new Map<string, SetEvaluation[]>();
for (const seed of SEEDS) {
  for (const set of labelledSets(seed)) {
    process.stderr.write(`spikes: ${set.name}, ${set.rows.length} rows\n`);
    const name = set.name.replace(/ \(seed \d+\)$/, "");
    bySet.set(name, [...(bySet.get(name) ?? []), evaluateSet(set)]);
  }
}

const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};

interface MethodFigures {
  precision: number[];
  alertPrecision: number[];
  recall: number[];
  falsePositives: number[];
  missed: string[][];
  rampsCaught: number[];
  rampHoursToFirstAlert: number | null;
}

const report = [...bySet].map(([set, runs]) => ({
  set,
  generator: runs[0]!.generator,
  seeds: SEEDS,
  rows: runs.map((r) => r.rows),
  windows: runs.map((r) => r.windows),
  methods: Object.fromEntries(
    METHODS.map((m) => [
      m,
      {
        precision: runs.map((r) => r.scores[m].precision),
        alertPrecision: runs.map((r) => r.scores[m].alertPrecision),
        recall: runs.map((r) => r.scores[m].recall),
        falsePositives: runs.map((r) => r.scores[m].falsePositives),
        missed: runs.map((r) => r.scores[m].missed),
        rampsCaught: runs.map((r) => r.ramps.caught[m]),
        rampHoursToFirstAlert: median(runs.flatMap((r) => r.ramps.hoursToDetect[m].filter((h): h is number => h !== null))),
      },
    ]),
  ) as Record<Method, MethodFigures>,
  ramps: {
    attacks: runs.map((r) => r.ramps.attacks),
    caughtByRampCheck: runs.map((r) => r.ramps.byRampCheck.caught),
  },
}));

if (json) {
  process.stdout.write(`${JSON.stringify({ seeds: SEEDS, sets: report }, null, 2)}\n`);
} else {
  const lines: string[] = [`Spike detection: precision and recall per labelled set, seeds ${SEEDS.join(" / ")}`];
  for (const r of report) {
    lines.push("", `${r.set} (${r.generator}); windows ${r.windows.join(" / ")}; slow ramps ${r.ramps.attacks.join(" / ")}, caught by the ramp check ${r.ramps.caughtByRampCheck.join(" / ")}`);
    const rows = METHODS.map((m) => {
      const s = r.methods[m];
      return [METHOD_LABELS[m], s.precision.map((v) => v.toFixed(2)).join(" / "), s.alertPrecision.map((v) => v.toFixed(2)).join(" / "), s.recall.map((v) => v.toFixed(2)).join(" / "), s.rampsCaught.join(" / "), s.rampHoursToFirstAlert === null ? "-" : `${s.rampHoursToFirstAlert} h`, [...new Set(s.missed.flat())].join(", ") || "-"];
    });
    const headers = ["METHOD", "PRECISION", "ALERT PRECISION", "RECALL", "RAMPS", "FIRST RAMP ALERT", "MISSED"];
    const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
    for (const row of [headers, ...rows]) lines.push(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd());
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
