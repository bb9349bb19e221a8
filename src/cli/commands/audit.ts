import { createCredential, storageTargetOf } from "../../adapters.js";
import { loadConfig } from "../../config.js";
import { openState } from "../../runtime.js";
import type { TableStorageTarget } from "../../state/tables.js";
import { parseSince } from "../args.js";
import { auditTable } from "../format.js";
import { columnsOf, EXIT, UsageError, writeJson, type CliIo } from "../io.js";

/** `amlguard audit`: the audit trail from Table Storage. */
export async function run(io: CliIo, _args: string[], options: { since: string; json?: boolean }): Promise<number> {
  const since = parseSince("--since", options.since, new Date());
  const { audit } = await openState(storageTarget(io));
  const records = await audit.list(since);
  if (options.json) writeJson(io, records);
  else io.stdout.write(`${auditTable(records, columnsOf(io.stdout))}\n`);
  return EXIT.ok;
}

/** Table Storage from the settings, with the signed-in identity where it is identity-based. */
export function storageTarget(io: CliIo): TableStorageTarget {
  const target = storageTargetOf(loadConfig(io.env), io.credential ?? createCredential());
  if (!target) throw new UsageError("no Table Storage configured: set AMLGUARD_STORAGE_CONNECTION_STRING, AMLGUARD_TABLE_ENDPOINT or AzureWebJobsStorage__accountName");
  return target;
}
