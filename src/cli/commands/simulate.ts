import type { Output } from "../progress.js";

/** What the command needs of the CLI's io. */
export interface SimulateIo {
  stdout: Output;
  stderr: Output;
}

/**
 * `amlguard simulate SCENARIO.json [--json]`: plays a scenario through amlguard's real handlers on the embedded
 * sandbox. Exit 0 when it ran; a bad scenario is an InputError naming the step (exit 2, one line, no stack).
 */
export async function run(io: SimulateIo, args: string[], options: { json?: boolean }): Promise<number> {
  // Loaded when the command runs: the sandbox and Azurite are heavy and other commands never need them.
  const [{ simulate }, { renderSimulation }] = await Promise.all([import("../../simulate/runner.js"), import("../../simulate/report.js")]);
  const result = await simulate(args[0]!, (step, total, kind) => {
    if (io.stderr.isTTY) io.stderr.write(`\rstep ${step}/${total} (${kind})…`);
  });
  if (io.stderr.isTTY) io.stderr.write("\r\x1b[K");
  io.stdout.write(`${options.json ? JSON.stringify(result, null, 2) : renderSimulation(result)}\n`);
  return 0;
}
