/**
 * Cold-start benchmark (npm run bench:coldstart [-- --json]): time to import the Function App's entry module in a
 * fresh Node process, bundled (esbuild, what npm run package deploys) against unbundled (tsc output + node_modules).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../src/paths.js";
import { bundle } from "../scripts/package.js";

const RUNS = 7;
const root = packageRoot();
const json = process.argv.includes("--json");

function importMs(entry: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(entry)}); process.stdout.write(String(performance.now() - t));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return Number(out);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const unbundled = join(root, "dist", "functions", "index.js");
if (!existsSync(unbundled)) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
const bundled = join(mkdtempSync(join(tmpdir(), "amlguard-bundle-")), "index.js");
await bundle(bundled);
const samples = { bundled: [] as number[], unbundled: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  samples.bundled.push(importMs(bundled));
  samples.unbundled.push(importMs(unbundled));
}
const result = {
  runs: RUNS,
  bundledMedianMs: Number(median(samples.bundled).toFixed(1)),
  unbundledMedianMs: Number(median(samples.unbundled).toFixed(1)),
  ratioUnbundledOverBundled: Number((median(samples.unbundled) / median(samples.bundled)).toFixed(2)),
};
process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `module load (median of ${RUNS} fresh processes): bundled ${result.bundledMedianMs} ms, unbundled ${result.unbundledMedianMs} ms, ratio ${result.ratioUnbundledOverBundled}\n`);
