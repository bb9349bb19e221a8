import type { TokenCredential } from "@azure/core-auth";
import type { AlertSink } from "./alerts/alert.js";
import { AcsEmailChannel, SmtpChannel, TeamsChannel, type AlertChannel } from "./alerts/channels.js";
import { Outbox } from "./alerts/outbox.js";
import { AlertDedupe } from "./alerts/dedupe.js";
import { AlertRouter } from "./alerts/router.js";
import { checkConnectionString, createAzureClients, createCredential, type AzureClients } from "./adapters.js";
import type { ArmClient } from "./azure/arm-client.js";
import type { GraphClient } from "./azure/graph-client.js";
import { armSource, filteredSource, graphSource, type EstateSource } from "./scan.js";
import type { SweepOptions } from "./sweep.js";
import type { LogsClient } from "./azure/logs-client.js";
import { SpikeCheckpoints } from "./spikes/run.js";
import { ConfigError, type AmlguardConfig } from "./config.js";
import type { Logger } from "./log.js";
import type { EventDeps } from "./pipeline/process-event.js";
import type { PipelineSettings } from "./pipeline/settings.js";
import { AuditLog } from "./state/audit.js";
import { ExemptionStore } from "./exemptions/store.js";
import { ProposalStore } from "./proposals/store.js";
import { ActionLocks, EventLedger } from "./state/ledger.js";
import { openTable, tableNames, type TableStorageTarget } from "./state/tables.js";
import { retentionTargets, type RetentionTarget } from "./state/retention.js";
import { InflightRequests, RateLimiter } from "./state/throttle.js";

/** Alert delivery: the channels, the outbox they are fed from, and the dedupe window. */
export interface Alerting {
  channels: AlertChannel[];
  outbox: Outbox;
  dedupe: AlertDedupe;
}

/**
 * Everything the pipeline needs, made once per process from validated config. Alerts go to `alerts` when given
 * (tests, benchmarks), else through `alerting` (router → outbox → channels), else to the log only.
 */
export type Runtime = Omit<EventDeps, "log" | "alerts"> & {
  alerts?: AlertSink;
  alerting?: Alerting;
  /** For manual requests (HTTP, CLI): the subscriptions in scope, in-flight request leases, the HTTP rate limit. */
  manual?: { allowedSubscriptions: string[]; inflight: InflightRequests; rateLimiter: RateLimiter };
  /** For the reconciliation sweep: where the estate comes from and how much it may write. */
  sweep?: { source: () => EstateSource; options: SweepOptions };
  /** Coordination tables to prune after each sweep. */
  retention?: RetentionTarget[];
  /** For the failed-authentication spike detector. */
  spikes?: { logs: LogsClient; checkpoints: SpikeCheckpoints; workspaceId: string; workspaceResourceId?: string; portal: string };
};

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
    ...(config.logAnalytics?.workspaceResourceId ? { spikeWorkspaceResourceId: config.logAnalytics.workspaceResourceId } : {}),
    proposalTtlMs: config.proposalTtlMs,
    ...(config.publicBaseUrl ? { publicBaseUrl: config.publicBaseUrl } : {}),
  };
}

export async function openState(target: TableStorageTarget, prefix?: string): Promise<Pick<Runtime, "ledger" | "locks" | "audit" | "exemptions" | "proposals">> {
  const names = tableNames(prefix);
  const [ledger, locks, audit, exemptions, proposals] = await Promise.all([names.ledger, names.locks, names.audit, names.exemptions, names.proposals].map((name) => openTable(target, name)));
  return { ledger: new EventLedger(ledger!), locks: new ActionLocks(locks!), audit: new AuditLog(audit!), exemptions: new ExemptionStore(exemptions!), proposals: new ProposalStore(proposals!) };
}

/** State for manual requests: in-flight leases and the per-principal rate limit. */
export async function openManual(target: TableStorageTarget, allowedSubscriptions: string[], perMinute: number, prefix?: string): Promise<NonNullable<Runtime["manual"]>> {
  const names = tableNames(prefix);
  const [inflight, rateLimit] = await Promise.all([openTable(target, names.inflight), openTable(target, names.rateLimit)]);
  return { allowedSubscriptions, inflight: new InflightRequests(inflight), rateLimiter: new RateLimiter(rateLimit, perMinute) };
}

/** The outbox (which also holds the dedupe marks) for a set of channels. */
export async function openAlerting(
  target: TableStorageTarget,
  channels: AlertChannel[],
  options: { dedupeWindowMs: number; ttlMs: number; baseBackoffMs?: number },
  prefix?: string,
): Promise<Alerting> {
  const names = tableNames(prefix);
  return {
    channels,
    outbox: new Outbox(await openTable(target, names.outbox), { ttlMs: options.ttlMs, ...(options.baseBackoffMs ? { baseBackoffMs: options.baseBackoffMs } : {}) }),
    dedupe: new AlertDedupe(options.dedupeWindowMs),
  };
}

/** The channels configured, with the managed identity for Azure Communication Services. */
export function channelsOf(config: AmlguardConfig, credential: TokenCredential, ca?: string): AlertChannel[] {
  const { teams, email, portalUrl } = config.alerts;
  const channels: AlertChannel[] = [];
  if (teams) channels.push(new TeamsChannel(teams.webhookUrl, teams.minSeverity, { portal: portalUrl, ...(ca ? { ca } : {}) }));
  if (email) {
    channels.push(
      "acsEndpoint" in email.via
        ? new AcsEmailChannel(email.via.acsEndpoint, credential, email.from, email.to, email.minSeverity, { portal: portalUrl, ...(ca ? { ca } : {}) })
        : new SmtpChannel(email.via.smtpUrl, email.from, email.to, email.minSeverity, portalUrl),
    );
  }
  return channels;
}

/** The Azure runtime: managed identity (DefaultAzureCredential) for ARM and, where configured, for Table Storage. */
export async function createAzureRuntime(config: AmlguardConfig, credential: TokenCredential = createCredential()): Promise<Runtime> {
  return createRuntime(config, createAzureClients(config, credential), credential);
}

/**
 * The runtime over a set of clients: what the Functions app runs on in Azure, and what the CLI runs on against Azure
 * or the embedded sandbox. One assembly, so a command behaves as the deployed handler does.
 */
export async function createRuntime(config: AmlguardConfig, clients: AzureClients, credential: TokenCredential): Promise<Runtime> {
  const target = clients.storage;
  if (!target) throw new ConfigError("no Table Storage configured: set AzureWebJobsStorage__accountName, AMLGUARD_TABLE_ENDPOINT or AMLGUARD_STORAGE_CONNECTION_STRING");
  if ("connectionString" in target) checkConnectionString(target.connectionString);
  const { arm, graph } = clients;
  return {
    arm,
    ...(await openState(target)),
    alerting: await openAlerting(target, channelsOf(config, credential), config.alerts),
    manual: await openManual(target, config.subscriptionIds, config.http.rateLimitPerMinute),
    retention: await retentionTargets(target, config.alerts.dedupeWindowMs / 86_400_000),
    sweep: {
      source: () => {
        const { via, managementGroup } = config.sweep;
        return estateSource({ arm, graph }, { via, subscriptions: config.subscriptionIds, ...(managementGroup ? { managementGroup } : {}) });
      },
      options: { maxWritesPerSubscription: config.sweep.maxWritesPerSubscription },
    },
    ...(config.logAnalytics && clients.logs
      ? {
          spikes: {
            logs: clients.logs(),
            checkpoints: new SpikeCheckpoints(await openTable(target, tableNames().spikes)),
            workspaceId: config.logAnalytics.workspaceId,
            ...(config.logAnalytics.workspaceResourceId ? { workspaceResourceId: config.logAnalytics.workspaceResourceId } : {}),
            portal: config.alerts.portalUrl,
          },
        }
      : {}),
    settings: settingsOf(config),
    now: () => new Date(),
  };
}

/** What to enumerate: subscriptions (optionally one resource group in each) or a management group (Resource Graph only). */
export interface EstateScope {
  via: "graph" | "arm";
  subscriptions: readonly string[];
  managementGroup?: string;
  resourceGroup?: string;
}

/** The estate source for a scope: one paged Resource Graph query, or ARM enumeration per subscription. */
export function estateSource(clients: { arm: ArmClient; graph: GraphClient }, scope: EstateScope): EstateSource {
  const { resourceGroup } = scope;
  if (scope.via === "arm") return armSource(clients.arm, scope.subscriptions.map((subscriptionId) => ({ subscriptionId, ...(resourceGroup ? { resourceGroup } : {}) })));
  const source = graphSource(clients.graph, scope.managementGroup ? { managementGroup: scope.managementGroup } : { subscriptions: [...scope.subscriptions] });
  const group = resourceGroup?.toLowerCase();
  return group ? filteredSource(source, (r) => r.id.split("/")[4]?.toLowerCase() === group) : source;
}

/** The pipeline's dependencies for one invocation, logging through that invocation's logger. */
export function depsFor(runtime: Runtime, log: Logger): EventDeps {
  const { alerting } = runtime;
  const alerts = runtime.alerts ?? (alerting ? new AlertRouter(alerting.channels, alerting.outbox, alerting.dedupe, log) : logAlertSink(log));
  return { ...runtime, alerts, log };
}

/** Alerts as structured log lines (Application Insights in Azure): the channel that is always there. */
export function logAlertSink(log: Logger): AlertSink {
  return {
    send: async (alert) => {
      log.warn(`alert: ${alert.outcome}: ${alert.title}`, { ...alert });
    },
  };
}
