import type { TokenCredential } from "@azure/core-auth";
import { TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import { checkConnectionString } from "./connection-string.js";

/** Where amlguard keeps its state: a connection string (Azurite, local) or an account URL with a managed identity. */
export type TableStorageTarget = { connectionString: string } | { endpoint: string; credential: TokenCredential };

/** Table names under a prefix (letters and digits; tests use one prefix each to stay apart). */
export function tableNames(prefix = "amlguard") {
  if (!/^[A-Za-z][A-Za-z0-9]{0,40}$/.test(prefix)) throw new Error("table prefix must be letters and digits");
  return {
    ledger: `${prefix}events`,
    locks: `${prefix}actions`,
    audit: `${prefix}audit`,
    outbox: `${prefix}outbox`,
    rateLimit: `${prefix}ratelimit`,
    inflight: `${prefix}inflight`,
    spikes: `${prefix}spikecheckpoints`,
    exemptions: `${prefix}exemptions`,
    proposals: `${prefix}proposals`,
  };
}

// One client per table and storage target: the runtime's parts (state, alerting, manual requests, retention) open
// the same tables, and each open costs a createTable round trip on a cold start.
const opened = new WeakMap<TableStorageTarget, Map<string, Promise<TableClient>>>();

export function openTable(target: TableStorageTarget, name: string): Promise<TableClient> {
  let byName = opened.get(target);
  if (!byName) opened.set(target, (byName = new Map()));
  let client = byName.get(name);
  if (!client) {
    client = createTableClient(target, name).catch((error: unknown) => {
      byName.delete(name);
      throw error;
    });
    byName.set(name, client);
  }
  return client;
}

async function createTableClient(target: TableStorageTarget, name: string): Promise<TableClient> {
  const options: TableServiceClientOptions = { retryOptions: { maxRetries: 4 } };
  if ("connectionString" in target) checkConnectionString(target.connectionString); // the SDK's own errors are TypeErrors
  const client =
    "connectionString" in target
      ? TableClient.fromConnectionString(target.connectionString, name, { ...options, allowInsecureConnection: isLoopback(target.connectionString) })
      : new TableClient(`${target.endpoint.replace(/\/+$/, "")}`, name, target.credential, options);
  await client.createTable(); // idempotent: the SDK treats TableAlreadyExists as success
  return client;
}

// Azurite listens on plain HTTP on loopback; anything else must be HTTPS.
function isLoopback(connectionString: string): boolean {
  return /UseDevelopmentStorage=true|https?:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(connectionString);
}

/** The HTTP status of an Azure SDK error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" ? status : undefined;
}
