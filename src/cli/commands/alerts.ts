import { loadConfig } from "../../config.js";
import { openAlerting } from "../../runtime.js";
import { shortName, table } from "../format.js";
import { columnsOf, EXIT, writeJson, type CliIo } from "../io.js";
import { withStorage } from "./audit.js";

/** `amlguard alerts pending`: alerts not yet delivered (waiting for a retry, refused by the channel, or expired). */
export async function run(io: CliIo, _args: string[], options: { sandbox?: boolean; json?: boolean }): Promise<number> {
  // The demo's settings are its own; only the outbox's window settings are read, and they do not change what is listed.
  const alertSettings = options.sandbox ? { dedupeWindowMs: 3_600_000, ttlMs: 86_400_000 } : loadConfig(io.env).alerts;
  const entries = await withStorage(io, options, async (target) => {
    const { outbox } = await openAlerting(target, [], alertSettings);
    return outbox.undelivered();
  });
  if (options.json) {
    writeJson(io, entries);
    return EXIT.ok;
  }
  if (entries.length === 0) {
    io.stdout.write("No undelivered alerts.\n");
    return EXIT.ok;
  }
  const rows = entries.map((e) => [
    e.channel,
    e.status,
    String(e.attempts),
    e.nextAttemptAt.slice(0, 19),
    `${e.alert.severity} ${e.alert.outcome}: ${e.alert.title} (${shortName(e.alert.resourceId)})${e.lastError ? ` [${e.lastError}]` : ""}`,
  ]);
  const columns = [{ header: "CHANNEL" }, { header: "STATUS" }, { header: "TRIES", drop: 1 }, { header: "NEXT TRY (UTC)", below: 2 }, { header: "ALERT", wrap: "words" as const, below: 1 }];
  io.stdout.write(`${table(columns, rows, columnsOf(io.stdout))}\n`);
  return EXIT.ok;
}
