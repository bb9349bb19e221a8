import { createCredential, storageTargetOf } from "../../adapters.js";
import { loadConfig } from "../../config.js";
import { openState } from "../../runtime.js";
import type { TableStorageTarget } from "../../state/tables.js";
import { parseSince } from "../args.js";
import { auditTable } from "../format.js";
import { columnsOf, EXIT, UsageError, writeJson, type CliIo } from "../io.js";

/** `amlguard audit`: the audit trail from Table Storage, or from what the last demo kept (`--sandbox`). */
export async function run(io: CliIo, _args: string[], options: { since?: string; sandbox?: boolean; json?: boolean }): Promise<number> {
  // The demo's rows are as old as the demo: with --sandbox and no --since, all of them.
  const since = options.since === undefined && options.sandbox ? new Date(0) : parseSince("--since", options.since ?? "24h", new Date());
  return withStorage(io, options, async (target) => {
    const records = await (await openState(target)).audit.list(since);
    if (options.json) writeJson(io, records);
    else io.stdout.write(`${auditTable(records, columnsOf(io.stdout))}\n`);
    return EXIT.ok;
  });
}

/** Table Storage from the settings, or (`--sandbox`) a read-only copy of what the last demo kept. */
export async function withStorage<T>(io: CliIo, options: { sandbox?: boolean }, use: (target: TableStorageTarget) => Promise<T>): Promise<T> {
  if (!options.sandbox) return use(storageTarget(io));
  const { openKeptTables, DEMO_STATE_DIR } = await import("../../demo/state.js");
  const kept = await openKeptTables(io.cwd ?? process.cwd());
  if (!kept) throw new UsageError(`no demo state in ${DEMO_STATE_DIR} here: run npm start (or amlguard demo) in this directory first; it keeps its audit trail, alert outbox and estate there`);
  try {
    return await use(kept.target);
  } finally {
    await kept.close();
  }
}

/** Table Storage from the settings, with the signed-in identity where it is identity-based. */
export function storageTarget(io: CliIo): TableStorageTarget {
  const target = storageTargetOf(loadConfig(io.env), io.credential ?? createCredential());
  if (!target) throw new UsageError("no Table Storage configured: set AMLGUARD_STORAGE_CONNECTION_STRING, AMLGUARD_TABLE_ENDPOINT or AzureWebJobsStorage__accountName (or --sandbox for what the last demo kept)");
  return target;
}
