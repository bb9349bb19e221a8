import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { ArmClient } from "./azure/arm-client.js";
import { GraphClient } from "./azure/graph-client.js";
import { LogsClient } from "./azure/logs-client.js";
import type { AmlguardConfig } from "./config.js";
import { checkConnectionString } from "./state/connection-string.js";
import type { TableStorageTarget } from "./state/tables.js";

export { checkConnectionString } from "./state/connection-string.js";

/**
 * The one place Azure clients are made; the core receives them ready to use. The Functions runtime and every CLI
 * command get their clients here, from validated config (Azure) or from an endpoint with its CA (the sandbox).
 */
export interface AzureClients {
  arm: ArmClient;
  graph: GraphClient;
  /** Log Analytics, where a workspace is configured (made on first use: most commands never query logs). */
  logs?: () => LogsClient;
  /** Table Storage, where it is configured. */
  storage?: TableStorageTarget;
}

/** Clients for Azure itself, with the managed identity / developer sign-in that DefaultAzureCredential finds. */
export function createAzureClients(config: AmlguardConfig, given: TokenCredential = createCredential()): AzureClients {
  const credential = explainedCredential(given);
  const logAnalytics = config.logAnalytics;
  // Not checked here: a scan needs no storage, and createRuntime checks the target it is given.
  const storage = config.storage && ("endpoint" in config.storage ? { endpoint: config.storage.endpoint, credential } : config.storage);
  return {
    arm: new ArmClient({ endpoint: config.armEndpoint, credential }),
    graph: new GraphClient({ endpoint: config.armEndpoint, credential }),
    ...(logAnalytics ? { logs: () => new LogsClient({ endpoint: logAnalytics.endpoint, credential }) } : {}),
    ...(storage ? { storage } : {}),
  };
}

/** Clients for an Azure-compatible endpoint that brings its own CA certificate (the embedded sandbox). */
export function createEndpointClients(endpoint: { url: string; credential: TokenCredential; ca: string }, storage?: TableStorageTarget): AzureClients {
  const options = { endpoint: endpoint.url, credential: endpoint.credential, ca: endpoint.ca };
  return { arm: new ArmClient(options), graph: new GraphClient(options), ...(storage ? { storage } : {}) };
}

/** A Log Analytics client for an explicit endpoint (the sandbox's, or a workspace named on the command line). */
export function createLogsClient(endpoint: string, credential: TokenCredential = createCredential(), ca?: string): LogsClient {
  return new LogsClient({ endpoint, credential: explainedCredential(credential), ...(ca ? { ca } : {}) });
}

/** Table Storage from the settings: identity-based (deployed default) with the credential, or a connection string. */
export function storageTargetOf(config: AmlguardConfig, credential: TokenCredential): TableStorageTarget | undefined {
  const { storage } = config;
  if (!storage) return undefined;
  if ("endpoint" in storage) return { endpoint: storage.endpoint, credential: explainedCredential(credential) };
  checkConnectionString(storage.connectionString);
  return storage;
}

/** A credential failure in the user's terms: which credentials were tried and what to do about it. */
export class CredentialError extends Error {
  override name = "CredentialError";
  constructor(
    readonly tried: string[],
    message: string,
  ) {
    super(message);
    // Only the message travels: the host and the CLI print nothing more (no stack, no tokens).
    this.stack = `${this.name}: ${message}`;
  }
}

/** DefaultAzureCredential, with failures explained (see CredentialError). */
export function createCredential(): TokenCredential {
  return explainedCredential(new DefaultAzureCredential());
}

const explained = new WeakSet<TokenCredential>();

export function explainedCredential(inner: TokenCredential): TokenCredential {
  if (explained.has(inner)) return inner;
  const credential: TokenCredential = {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await inner.getToken(scopes, options);
      } catch (error) {
        throw explainCredentialError(error) ?? error;
      }
    },
  };
  explained.add(credential);
  return credential;
}

// @azure/identity's credentials do not all name themselves in their messages; these are the ones DefaultAzureCredential
// chains (identity 4.x, defaultAzureCredential.ts), recognised by what their messages say.
const CREDENTIAL_NAMES: Array<[RegExp, string]> = [
  [/EnvironmentCredential/i, "environment variables (EnvironmentCredential)"],
  [/WorkloadIdentityCredential|federated token/i, "workload identity (WorkloadIdentityCredential)"],
  [/ManagedIdentityCredential|managed identity/i, "managed identity (ManagedIdentityCredential)"],
  [/Visual Studio Code/i, "Visual Studio Code sign-in"],
  [/Azure Developer CLI|azd/i, "Azure Developer CLI (azd auth login)"],
  [/Azure CLI|az login/i, "Azure CLI (az login)"],
  [/PowerShell/i, "Azure PowerShell (Connect-AzAccount)"],
  [/broker/i, "the Windows broker"],
];

const WHAT_TO_DO =
  "run `az login` (and `az account set --subscription ID`), or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), " +
  "or run with a managed identity (AZURE_CLIENT_ID names a user-assigned one)";

/** AggregateAuthenticationError / CredentialUnavailableError / AuthenticationError as a CredentialError; else undefined. */
export function explainCredentialError(error: unknown): CredentialError | undefined {
  if (error instanceof CredentialError) return error;
  if (!(error instanceof Error)) return undefined;
  if (!["AggregateAuthenticationError", "CredentialUnavailableError", "AuthenticationError", "AuthenticationRequiredError"].includes(error.name)) return undefined;
  const parts = error.name === "AggregateAuthenticationError" ? ((error as Error & { errors?: unknown[] }).errors ?? []) : [error];
  const tried = parts.map((part) => {
    const message = part instanceof Error ? part.message : String(part);
    const name = CREDENTIAL_NAMES.find(([pattern]) => pattern.test(message))?.[1] ?? "a credential";
    return `${name}: ${reasonOf(message)}`;
  });
  const unavailable = parts.every((part) => part instanceof Error && part.name === "CredentialUnavailableError");
  // What to do first: the message is kept to one short line (logs and the CLI show at most 500 characters).
  const headline = unavailable ? "no Azure credential is available" : "Azure sign-in failed";
  return new CredentialError(tried, `${headline}. To fix: ${WHAT_TO_DO}. Tried: ${tried.length ? tried.join("; ") : "DefaultAzureCredential"}`);
}

/** The reason in a few words; identity's own messages are long and carry troubleshooting links. */
function reasonOf(message: string): string {
  if (/could not be found|couldn't be found|not installed|Unable to execute|ENOENT/i.test(message)) return "not installed";
  if (/az login|not logged in|Please run|Connect-AzAccount|auth login|not signed in/i.test(message)) return "not signed in";
  if (/network|unreachable|ECONNREFUSED|ETIMEDOUT|timed out|timeout/i.test(message)) return "no endpoint reachable";
  if (/is unavailable|not (available|configured)|environment variables|not set/i.test(message)) return "not configured";
  const line = (message.split("\n")[0] ?? "").replace(/https?:\/\/\S+/g, "").trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line || "unavailable";
}
