import type { TokenCredential } from "@azure/core-auth";
import type { Logger } from "../log.js";
import type { Output } from "./progress.js";

export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** Standard input, for `evaluate -`. */
  stdin?: AsyncIterable<string | Buffer> | Iterable<string | Buffer>;
  env: NodeJS.ProcessEnv;
  /** The Azure credential; DefaultAzureCredential (src/adapters.ts) when absent. */
  credential?: TokenCredential;
  /** Extra CA trusted for the Entra authority's HTTPS (the sandbox's self-signed one); absent against Azure. */
  authorityCa?: string;
  /** Where the demo keeps its state (.amlguard/) and `--sandbox` reads it; the process's directory when absent. */
  cwd?: string;
}

/**
 * Exit codes (README, CLI): 0 checked and compliant, 1 findings (or spikes), 2 bad input or a failure, 3 nothing was
 * checked (an empty or unmatched scope): never read as "all clear".
 */
export const EXIT = { ok: 0, findings: 1, error: 2, nothingChecked: 3 } as const;

/** A mistake in how the command was called: one line in the user's terms, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function columnsOf(output: Output): number {
  // Fit a terminal; piped output keeps whole lines for grep and logs.
  return output.isTTY ? (output.columns ?? 100) : Number.POSITIVE_INFINITY;
}

export function stderrLogger(io: CliIo): Logger {
  // One line each: alerts are summarised by their message; the result table has the detail.
  const line = (level: string) => (message: string) => io.stderr.write(`${level}: ${message}\n`);
  return { info: () => undefined, warn: line("warning"), error: line("error") };
}
