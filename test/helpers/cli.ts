import type { TokenCredential } from "@azure/core-auth";
import { runCli } from "../../src/cli/program.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output, as a pipe would see it (no TTY); optionally stdin and a credential. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}, extra: { stdin?: string; credential?: TokenCredential; authorityCa?: string } = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (s) => void (stdout += s) },
    stderr: { write: (s) => void (stderr += s) },
    ...(extra.stdin !== undefined ? { stdin: [extra.stdin] } : {}),
    ...(extra.credential ? { credential: extra.credential } : {}),
    ...(extra.authorityCa ? { authorityCa: extra.authorityCa } : {}),
    env,
  });
  return { code, stdout, stderr };
}
