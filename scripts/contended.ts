/**
 * npm run test:contended [-- --per-core N] [-- --runs K] [-- vitest args…]: the test suite on a machine that is busy
 * with other work, as CI machines are. It starts N busy processes per core (default 1: each core is shared with a
 * process that never sleeps, on top of whatever else runs), runs `vitest run` K times in a row (default 1) while they spin, stops at the first failing run, and stops
 * the busy processes it started. No root needed (stress-ng's `--cpu` does the same where it is installed). Kept
 * out of `npm test`, which it runs unchanged: it shows the suite does not depend on how fast the machine is.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
function take(name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isInteger(value) || value < 1 || value > 16) {
    process.stderr.write(`--${name} must be a whole number from 1 to 16\n`);
    process.exit(2);
  }
  args.splice(index, 2);
  return value;
}
const perCore = take("per-core", 1);
const runs = take("runs", 1);
const cores = availableParallelism();
const say = (text: string): void => void process.stderr.write(`contended: ${text}\n`);

// A busy process: pure CPU, no I/O, no memory growth; it lives until this script stops it.
const busy: ChildProcess[] = Array.from({ length: perCore * cores }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
let suite: ChildProcess | undefined;
const stopBusy = (): void => {
  for (const child of busy) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
};
process.on("exit", stopBusy);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    suite?.kill(signal);
    stopBusy();
    process.exit(130);
  });
}

const vitest = fileURLToPath(new URL("../node_modules/vitest/vitest.mjs", import.meta.url));
const results: Array<{ run: number; exitCode: number; seconds: number; loadAverage1m: number }> = [];
say(`${busy.length} busy processes on ${cores} cores (${perCore} per core), then vitest run ×${runs}`);
let failed = false;
for (let run = 1; run <= runs && !failed; run++) {
  const started = Date.now();
  const exitCode = await new Promise<number>((resolve) => {
    suite = spawn(process.execPath, [vitest, "run", ...args], { stdio: "inherit" });
    suite.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  const result = { run, exitCode, seconds: Math.round((Date.now() - started) / 1000), loadAverage1m: Number(loadavg()[0]!.toFixed(1)) };
  results.push(result);
  say(`run ${run}/${runs}: ${exitCode === 0 ? "passed" : `FAILED (exit ${exitCode})`} in ${result.seconds} s, load average ${result.loadAverage1m}`);
  failed = exitCode !== 0;
}
stopBusy();
say(`summary ${JSON.stringify({ cores, busyProcesses: busy.length, results })}`);
process.exitCode = failed ? 1 : 0;
