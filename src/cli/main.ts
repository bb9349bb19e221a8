#!/usr/bin/env node
import { runCli } from "./program.js";

// `amlguard … | head` closes the pipe early: stop quietly, as other command-line tools do, instead of a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? 0);
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: Object.assign({ write: (s: string) => void process.stdout.write(s) }, { isTTY: process.stdout.isTTY, columns: process.stdout.columns }),
  stderr: Object.assign({ write: (s: string) => void process.stderr.write(s) }, { isTTY: process.stderr.isTTY, columns: process.stderr.columns }),
  stdin: process.stdin,
  env: process.env,
});
