#!/usr/bin/env node
import { runCli } from "./program.js";

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: Object.assign({ write: (s: string) => void process.stdout.write(s) }, { isTTY: process.stdout.isTTY, columns: process.stdout.columns }),
  stderr: Object.assign({ write: (s: string) => void process.stderr.write(s) }, { isTTY: process.stderr.isTTY, columns: process.stderr.columns }),
  stdin: process.stdin,
  env: process.env,
});
