import type { TokenCredential } from "@azure/core-auth";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/program.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with captured output, as a pipe would see it (no TTY); optionally stdin, a credential, the
 * authority's CA and the directory it runs in (default: a fresh empty one, so no demo state kept in a checkout changes
 * a test).
 */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}, extra: { stdin?: string; credential?: TokenCredential; authorityCa?: string; cwd?: string } = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (s) => void (stdout += s) },
    stderr: { write: (s) => void (stderr += s) },
    ...(extra.stdin !== undefined ? { stdin: [extra.stdin] } : {}),
    ...(extra.credential ? { credential: extra.credential } : {}),
    ...(extra.authorityCa ? { authorityCa: extra.authorityCa } : {}),
    cwd: extra.cwd ?? mkdtempSync(join(tmpdir(), "amlguard-cli-")),
    env,
  });
  return { code, stdout, stderr };
}
