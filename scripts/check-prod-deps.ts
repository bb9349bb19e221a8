/**
 * npm run check:prod-deps: proves that the production dependencies alone run what ships. It copies the built output
 * (dist/, from `npm run build`) with package.json and the lockfile into a scratch folder, runs
 * `npm ci --omit=dev --ignore-scripts` there, then:
 *   - imports the Function App's entry (dist/functions/index.js), as the Functions host does;
 *   - runs the CLI's Azure-mode commands that need no Azure account (`--help`, `evaluate` on Azure's own example).
 * Any module that only a devDependency provides fails it (ERR_MODULE_NOT_FOUND). It prints the package count and the
 * size of node_modules (the README's figures). `--keep` leaves the folder for a look.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../src/paths.js";

const root = packageRoot();
if (!existsSync(join(root, "dist", "src", "cli", "main.js"))) fail("dist/ is missing: run `npm run build` first");

const scratch = mkdtempSync(join(tmpdir(), "amlguard-prod-"));
try {
  for (const file of ["package.json", "package-lock.json", "host.json"]) cpSync(join(root, file), join(scratch, file));
  cpSync(join(root, "dist"), join(scratch, "dist"), { recursive: true });
  cpSync(join(root, "src", "approval-page", "assets"), join(scratch, "src", "approval-page", "assets"), { recursive: true });
  // The response body of Azure's published Workspaces_Get example (test/fixtures/arm/SOURCES.md).
  const example = JSON.parse(readFileSync(join(root, "test", "fixtures", "arm", "workspace-get.json"), "utf8")) as { responses: { 200: { body: unknown } } };
  writeFileSync(join(scratch, "workspace.json"), JSON.stringify(example.responses[200].body));
  step("npm ci --omit=dev", run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"]), [0]);

  step("the Function App's entry loads", run(process.execPath, ["-e", "await import('./dist/functions/index.js')", "--input-type=module"]), [0]);
  // The approval page's files, MSAL's browser bundle from the production dependencies included.
  const readAssets = "const { ASSETS, readAsset } = await import('./dist/src/approval-page/assets.js'); for (const name of Object.keys(ASSETS)) if (!(await readAsset(name)).length) throw new Error(name);";
  step("the approval page's assets are served", run(process.execPath, ["--input-type=module", "-e", readAssets]), [0]);
  step("amlguard --help", run(process.execPath, ["dist/src/cli/main.js", "--help"]), [0]);
  // Findings mean exit 1, bad input or a failure 2.
  step("amlguard evaluate", run(process.execPath, ["dist/src/cli/main.js", "evaluate", "workspace.json", "--json"]), [0, 1]);

  const lock = JSON.parse(readFileSync(join(scratch, "node_modules", ".package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
  const count = Object.keys(lock.packages).filter((path) => path.startsWith("node_modules/")).length;
  // Disk usage as `du -sm` counts it (allocated blocks), the measure the README's before/after figures use.
  const megabytes = diskUsage(join(scratch, "node_modules")) / 2 ** 20;
  process.stdout.write(`npm ci --omit=dev: ${count} packages, ${megabytes.toFixed(0)} MiB in node_modules\n`);
} finally {
  if (process.argv.includes("--keep")) process.stdout.write(`kept ${scratch}\n`);
  else rmSync(scratch, { recursive: true, force: true });
}

function run(command: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: scratch, encoding: "utf8", env: { ...process.env, AMLGUARD_SUBSCRIPTION_IDS: "" } });
}

function step(name: string, result: SpawnSyncReturns<string>, okCodes: number[]): void {
  if (result.status !== null && okCodes.includes(result.status)) {
    process.stdout.write(`ok: ${name}\n`);
    return;
  }
  const output = `${result.stderr ?? ""}${result.stdout ?? ""}`.split("\n").filter(Boolean).slice(-5).join("\n  ");
  fail(`${name} failed with production dependencies only (exit ${result.status ?? result.signal}):\n  ${output}`);
}

function diskUsage(path: string): number {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  if (!stats) return 0;
  const own = stats.blocks * 512;
  if (!stats.isDirectory()) return own;
  return readdirSync(path).reduce((sum, entry) => sum + diskUsage(join(path, entry)), own);
}

function fail(message: string): never {
  process.stderr.write(`check:prod-deps: ${message}\n`);
  process.exit(1);
}
