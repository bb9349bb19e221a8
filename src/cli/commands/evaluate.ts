import { InputError, parseResources, readResourceFile, type ParsedInput } from "../../inputs.js";
import { evaluateResource, type Finding } from "../../rules/index.js";
import { findingsTable, severitySummary } from "../format.js";
import { columnsOf, EXIT, writeJson, type CliIo } from "../io.js";

const MAX_STDIN_BYTES = 64 * 1024 * 1024;

/** `amlguard evaluate FILE... | -`: ARM JSON from files or standard input, evaluated with no network at all. */
export async function run(io: CliIo, files: string[], options: { json?: boolean }): Promise<number> {
  const findings: Finding[] = [];
  for (const file of files) {
    const parsed = file === "-" ? parseResources(await readStdin(io), "stdin") : await readResourceFile(file);
    const name = file === "-" ? "stdin" : file;
    for (const [type, count] of parsed.unsupported) io.stderr.write(`note: ${name}: skipped ${count} resource(s) of unsupported type ${type}\n`);
    if (parsed.supported.length === 0) throw new InputError(nothingToEvaluate(name, parsed));
    for (const resource of parsed.supported) findings.push(...(evaluateResource(resource) ?? []));
  }
  printFindings(io, findings, options.json);
  return findings.length ? EXIT.findings : EXIT.ok;
}

/** Nothing that looks like "no findings" may come from nothing evaluated. */
function nothingToEvaluate(name: string, parsed: ParsedInput): string {
  const types = [...parsed.unsupported.keys()];
  return `${name}: no resource of a type amlguard evaluates (workspaces, computes, online endpoints and deployments, registries)${types.length ? `; found ${types.slice(0, 3).join(", ")}${types.length > 3 ? ", ..." : ""}` : "; it is empty"}`;
}

export function printFindings(io: CliIo, findings: Finding[], json: boolean | undefined): void {
  if (json) {
    writeJson(io, findings);
    return;
  }
  io.stdout.write(`${findingsTable(findings, columnsOf(io.stdout))}\n`);
  if (findings.length) io.stdout.write(`${severitySummary(findings)}\n`);
}

async function readStdin(io: CliIo): Promise<string> {
  if (!io.stdin) throw new InputError("stdin: no standard input to read");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new InputError(`stdin: larger than ${MAX_STDIN_BYTES / 1024 / 1024} MiB`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
