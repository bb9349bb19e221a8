import { ConfigError } from "../config.js";

const SETTING = "the storage connection string (AMLGUARD_STORAGE_CONNECTION_STRING or AzureWebJobsStorage)";
const WHERE = "copy it from the storage account's Access keys, or use UseDevelopmentStorage=true for Azurite";

/**
 * Checks a Table Storage connection string the way @azure/data-tables 13 reads it (utils/connectionString.ts and
 * accountConnectionString.ts), before any call: the SDK parses lazily and fails deep inside with a TypeError
 * ("reading 'toLowerCase'") or its own wording. Never echoes the value: it carries the account key.
 *
 * - `UseDevelopmentStorage=true`: Azurite's well-known account.
 * - An account key string: DefaultEndpointsProtocol and AccountKey (the SDK's test), AccountName, and either
 *   TableEndpoint or DefaultEndpointsProtocol http/https with EndpointSuffix.
 * - Otherwise a SAS string: TableEndpoint and SharedAccessSignature, the account name taken from the endpoint.
 */
export function checkConnectionString(connectionString: string): void {
  if (/^\s*UseDevelopmentStorage=true\s*;?\s*$/i.test(connectionString)) return;
  const values = new Map<string, string>();
  for (const pair of connectionString.split(";").map((part) => part.trim()).filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ConfigError(`${SETTING} is malformed: expected Name=value pairs separated by ';'`);
    values.set(pair.slice(0, eq).trim().toLowerCase(), pair.slice(eq + 1).trim());
  }
  const get = (name: string): string => values.get(name.toLowerCase()) ?? "";
  const hasEndpoint = get("TableEndpoint") || get("AccountName");
  const hasSecret = get("AccountKey") || get("SharedAccessSignature");
  if (!hasEndpoint || !hasSecret) throw new ConfigError(`${SETTING} needs AccountName or TableEndpoint, and AccountKey or SharedAccessSignature (${WHERE})`);
  const endpoint = get("TableEndpoint");
  if (endpoint) checkEndpoint(endpoint);
  if (get("AccountKey")) {
    // The SDK reads a string as an account key string only when it names its protocol too.
    if (!get("DefaultEndpointsProtocol")) throw new ConfigError(`${SETTING} has an AccountKey but no DefaultEndpointsProtocol (add DefaultEndpointsProtocol=https; ${WHERE})`);
    if (!get("AccountName")) throw new ConfigError(`${SETTING} has an AccountKey but no AccountName (${WHERE})`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(get("AccountKey"))) throw new ConfigError(`${SETTING} has an AccountKey that is not base64, so it cannot be the account's key (${WHERE})`);
    if (endpoint) return;
    if (!["http", "https"].includes(get("DefaultEndpointsProtocol").toLowerCase())) throw new ConfigError(`${SETTING} has a DefaultEndpointsProtocol other than https or http`);
    if (!get("EndpointSuffix")) throw new ConfigError(`${SETTING} needs TableEndpoint, or EndpointSuffix (core.windows.net in Azure's public cloud) to build it from AccountName`);
    return;
  }
  if (!endpoint) throw new ConfigError(`${SETTING} has a SharedAccessSignature but no TableEndpoint to use it on (${WHERE})`);
}

function checkEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError(`${SETTING} has a TableEndpoint that is not a URL (expected https://<account>.table.core.windows.net)`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError(`${SETTING} has a TableEndpoint that is not an http or https URL`);
  // The SDK names the account from the host (<account>.table.…) or, for IP and single-label hosts, the first path segment.
  const fromHost = url.host.split(".")[1] === "table";
  if (!fromHost && !url.pathname.split("/")[1]) throw new ConfigError(`${SETTING} has a TableEndpoint that names no account (expected https://<account>.table.core.windows.net, or http://127.0.0.1:10002/<account> for Azurite)`);
}
