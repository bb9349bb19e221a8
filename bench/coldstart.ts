/**
 * Cold-start benchmark (npm run bench:coldstart [-- --json]): time to import the Function App's entry module in a
 * fresh Node process, bundled (esbuild, what npm run package deploys) against unbundled (tsc output + node_modules);
 * and the CLI as a whole process (`amlguard --help`, `amlguard evaluate` on one of Azure's published examples),
 * which loads only the module of the command it runs.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
// Always from the current sources: a stale dist/ would time yesterday's CLI.
execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
const bundled = join(mkdtempSync(join(tmpdir(), "amlguard-bundle-")), "index.js");
await bundle(bundled);
const samples = { bundled: [] as number[], unbundled: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  samples.bundled.push(importMs(bundled));
  samples.unbundled.push(importMs(unbundled));
}

/** Wall time of a whole CLI process, start to exit (the exit code is not judged: evaluate exits 1 on findings). */
function processMs(args: string[]): number {
  const start = performance.now();
  try {
    execFileSync(process.execPath, [join(root, "dist", "src", "cli", "main.js"), ...args], { stdio: "ignore" });
  } catch {
    // a non-zero exit is the command's answer, not a failure to run
  }
  return performance.now() - start;
}

const example = JSON.parse(readFileSync(join(root, "test", "fixtures", "arm", "compute-get-amlcompute.json"), "utf8")) as { responses: { "200": { body: unknown } } };
const resourceFile = join(mkdtempSync(join(tmpdir(), "amlguard-cli-")), "compute.json");
writeFileSync(resourceFile, JSON.stringify(example.responses["200"].body));
const cli = { help: [] as number[], evaluate: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  cli.help.push(processMs(["--help"]));
  cli.evaluate.push(processMs(["evaluate", resourceFile]));
}
const result = {
  runs: RUNS,
  bundledMedianMs: Number(median(samples.bundled).toFixed(1)),
  unbundledMedianMs: Number(median(samples.unbundled).toFixed(1)),
  ratioUnbundledOverBundled: Number((median(samples.unbundled) / median(samples.bundled)).toFixed(2)),
  cliHelpMedianMs: Number(median(cli.help).toFixed(1)),
  cliEvaluateMedianMs: Number(median(cli.evaluate).toFixed(1)),
};
process.stdout.write(
  json
    ? `${JSON.stringify(result, null, 2)}\n`
    : `module load (median of ${RUNS} fresh processes): bundled ${result.bundledMedianMs} ms, unbundled ${result.unbundledMedianMs} ms, ratio ${result.ratioUnbundledOverBundled}\n` +
        `CLI process (median of ${RUNS}): --help ${result.cliHelpMedianMs} ms, evaluate ${result.cliEvaluateMedianMs} ms\n`,
);
