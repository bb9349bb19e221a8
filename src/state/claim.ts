import type { TableClient, TableEntity } from "@azure/data-tables";
import { statusOf } from "./tables.js";

type Key = { partitionKey: string; rowKey: string };
type Existing<T> = T & { etag: string };

export type ClaimResult<T> =
  /** This caller holds the row now: it created it, or replaced a row `canTakeOver` judged free. ETag to release with. */
  | { held: true; etag: string; previous?: Existing<T> }
  /** Someone else holds it (or took it over a moment ago). */
  | { held: false; existing?: Existing<T> };

/**
 * The one way amlguard coordinates instances through Table Storage: a conditional insert; if the row exists, read it,
 * and, when `canTakeOver` says it is free (done, expired, failed), replace it under its ETag, so that of two callers
 * racing for the same row exactly one wins. Used by the event ledger, the action locks, in-flight requests, the
 * outbox lease and the alert dedupe.
 */
export async function claimRow<T extends Record<string, unknown>>(
  table: TableClient,
  key: Key,
  fresh: (previous?: Existing<T>) => Record<string, unknown>,
  canTakeOver: (existing: Existing<T>) => boolean,
): Promise<ClaimResult<T>> {
  try {
    const created = await table.createEntity({ ...fresh(), ...key } as TableEntity);
    return { held: true, etag: created.etag ?? "*" };
  } catch (error) {
    if (statusOf(error) !== 409) throw error;
  }
  const existing = (await table.getEntity<T>(key.partitionKey, key.rowKey)) as Existing<T>;
  if (!canTakeOver(existing)) return { held: false, existing };
  try {
    const replaced = await table.updateEntity({ ...fresh(existing), ...key } as TableEntity, "Replace", { etag: existing.etag });
    return { held: true, etag: replaced.etag ?? "*", previous: existing };
  } catch (error) {
    // Another caller replaced it between our read and our write.
    if (statusOf(error) === 412) return { held: false, existing };
    throw error;
  }
}
