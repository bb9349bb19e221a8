/** npm run bench [-- --json]: both benchmarks, each in a fresh process so their memory figures stay apart. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const json = args.includes("--json");
const outputs: Record<string, unknown> = {};
for (const name of ["events", "sweep", "coldstart", "spikes"]) {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const run = spawnSync(process.execPath, ["--import", "tsx", script, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 2 ** 20 });
  if (run.status !== 0) {
    process.stderr.write(`bench: ${name} failed (exit ${run.status})\n`);
    process.exit(1);
  }
  if (json) outputs[name] = JSON.parse(run.stdout);
  else process.stdout.write(`${run.stdout}\n`);
}
if (json) process.stdout.write(`${JSON.stringify(outputs, null, 2)}\n`);
