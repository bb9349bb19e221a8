/**
 * npm run audit: `npm audit --omit=dev`, judging what ships (production dependencies only: what the Function App
 * bundle and the CLI's Azure mode load; scripts/check-prod-deps.ts proves that set is enough).
 *   exit 0: judged, no high or critical advisory;
 *   exit 1: high or critical advisories (listed);
 *   exit 3: NOT JUDGED: the registry answered without an audit report (mirrors answer 404/405). Never a silent pass:
 *           it says so, and .ci/run turns it into a warning line (README, "Supply chain").
 */
import { spawnSync } from "node:child_process";

export const NOT_JUDGED = 3;

const run = spawnSync("npm", ["audit", "--omit=dev", "--json"], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
let report: { error?: { summary?: string }; metadata?: { vulnerabilities?: Record<string, number> }; vulnerabilities?: Record<string, { severity?: string }> } = {};
try {
  report = JSON.parse(run.stdout || "{}");
} catch {
  report = {};
}
const counts = report.metadata?.vulnerabilities;
if (!counts) {
  const reason = report.error?.summary || (run.stderr.split("\n").find((line) => /error|warn/.test(line)) ?? "no audit report").trim();
  process.stdout.write(`npm audit: not judged: the registry gave no audit report (${reason.slice(0, 200)}); production dependencies were not checked for advisories\n`);
  process.exit(NOT_JUDGED);
}
const serious = Object.entries(report.vulnerabilities ?? {}).filter(([, v]) => v.severity === "high" || v.severity === "critical").map(([name, v]) => `${name} (${v.severity})`);
process.stdout.write(`npm audit (production dependencies): ${JSON.stringify(counts)}${serious.length ? `; high or critical: ${serious.join(", ")}` : ""}\n`);
process.exit(serious.length > 0 || (counts.high ?? 0) + (counts.critical ?? 0) > 0 ? 1 : 0);
