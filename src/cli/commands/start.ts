import { createAzureClients, createCredential } from "../../adapters.js";
import { loadConfig } from "../../config.js";
import type { CliIo } from "../io.js";

/** `amlguard start` (npm start): with AMLGUARD_SUBSCRIPTION_IDS, scan those subscriptions on Azure; otherwise the demo. */
export async function run(io: CliIo, _args: string[], options: { json?: boolean }): Promise<number> {
  const config = loadConfig(io.env);
  if (config.subscriptionIds.length === 0) return (await import("./demo.js")).run(io, [], options);
  const { scanAndPrint } = await import("./scan.js");
  const clients = createAzureClients(config, io.credential ?? createCredential());
  const { via, managementGroup } = config.sweep;
  return scanAndPrint(io, clients, { via, subscriptions: config.subscriptionIds, ...(managementGroup ? { managementGroup } : {}) }, options);
}
