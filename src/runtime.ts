import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import type { AlertSink } from "./alerts/alert.js";
import { createAzureArmClient } from "./adapters.js";
import { ConfigError, type AmlguardConfig } from "./config.js";
import type { Logger } from "./log.js";
import type { EventDeps } from "./pipeline/process-event.js";
import type { PipelineSettings } from "./pipeline/settings.js";
import { AuditLog } from "./state/audit.js";
import { ActionLocks, EventLedger } from "./state/ledger.js";
import { openTable, tableNames, type TableStorageTarget } from "./state/tables.js";

/** Everything the pipeline needs, made once per process from validated config. Without `alerts`, alerts are logged. */
export type Runtime = Omit<EventDeps, "log" | "alerts"> & { alerts?: AlertSink };

export function settingsOf(config: AmlguardConfig): PipelineSettings {
  return {
    defaultMode: config.defaultMode,
    ruleModes: config.ruleModes,
    dryRun: config.dryRun,
    self: {
      ...(config.principalObjectId ? { objectId: config.principalObjectId } : {}),
      ...(config.clientId ? { clientId: config.clientId } : {}),
    },
    maxDeliveryAttempts: config.maxDeliveryAttempts,
  };
}

export async function openState(target: TableStorageTarget, prefix?: string): Promise<Pick<Runtime, "ledger" | "locks" | "audit">> {
  const names = tableNames(prefix);
  const [ledger, locks, audit] = await Promise.all([openTable(target, names.ledger), openTable(target, names.locks), openTable(target, names.audit)]);
  return { ledger: new EventLedger(ledger), locks: new ActionLocks(locks), audit: new AuditLog(audit) };
}

/** The Azure runtime: managed identity (DefaultAzureCredential) for ARM and, where configured, for Table Storage. */
export async function createAzureRuntime(config: AmlguardConfig, credential: TokenCredential = new DefaultAzureCredential()): Promise<Runtime> {
  if (!config.storage) throw new ConfigError("no Table Storage configured: set AzureWebJobsStorage__accountName, AMLGUARD_TABLE_ENDPOINT or AMLGUARD_STORAGE_CONNECTION_STRING");
  const target: TableStorageTarget = "endpoint" in config.storage ? { endpoint: config.storage.endpoint, credential } : config.storage;
  return {
    arm: createAzureArmClient(config, credential),
    ...(await openState(target)),
    settings: settingsOf(config),
    now: () => new Date(),
  };
}

/** The pipeline's dependencies for one invocation, logging through that invocation's logger. */
export function depsFor(runtime: Runtime, log: Logger): EventDeps {
  return { ...runtime, alerts: runtime.alerts ?? logAlertSink(log), log };
}

/** Alerts as structured log lines (Application Insights in Azure): the channel that is always there. */
export function logAlertSink(log: Logger): AlertSink {
  return {
    send: async (alert) => {
      log.warn(`alert: ${alert.outcome}: ${alert.title}`, { ...alert });
    },
  };
}
