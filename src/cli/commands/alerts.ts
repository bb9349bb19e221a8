import { loadConfig } from "../../config.js";
import { openAlerting } from "../../runtime.js";
import { shortName, table } from "../format.js";
import { columnsOf, EXIT, writeJson, type CliIo } from "../io.js";
import { storageTarget } from "./audit.js";

/** `amlguard alerts pending`: alerts not yet delivered (waiting for a retry, refused by the channel, or expired). */
export async function run(io: CliIo, _args: string[], options: { json?: boolean }): Promise<number> {
  const { outbox } = await openAlerting(storageTarget(io), [], loadConfig(io.env).alerts);
  const entries = await outbox.undelivered();
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
