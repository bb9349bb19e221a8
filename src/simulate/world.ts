import type { Alert } from "../alerts/alert.js";
import type { AlertChannel } from "../alerts/channels.js";
import { Outbox } from "../alerts/outbox.js";
import { AlertDedupe } from "../alerts/dedupe.js";
import type { ArmResource, JsonObject } from "../arm/resource.js";
import { ArmClient } from "../azure/arm-client.js";
import { GraphClient } from "../azure/graph-client.js";
import { ConfigError, loadConfig, type AmlguardConfig } from "../config.js";
import { ExemptionStore } from "../exemptions/store.js";
import { ProposalStore } from "../proposals/store.js";
import { settingsOf, type Runtime } from "../runtime.js";
import { startAzuriteTables, type RunningAzurite } from "../sandbox/azurite.js";
import { startSandbox, type RunningSandbox } from "../sandbox/index.js";
import type { SandboxPrincipal } from "../sandbox/events.js";
import { armSource, graphSource } from "../scan.js";
import { AuditLog, type AuditEntry } from "../state/audit.js";
import { ActionLocks, EventLedger } from "../state/ledger.js";
import { openTable, tableNames, type TableStorageTarget } from "../state/tables.js";
import { InflightRequests, RateLimiter } from "../state/throttle.js";
import type { ScenarioClock } from "./clock.js";
import type { SimPrincipal } from "./http.js";
import { ScenarioError, type Scenario } from "./schema.js";

/** amlguard's identity when the settings name none (AMLGUARD_PRINCIPAL_OBJECT_ID / AZURE_CLIENT_ID). */
export const DEFAULT_SELF = { objectId: "0b07b07b-0000-4000-8000-000000000b07", appId: "a11a11a1-0000-4000-8000-0000000000a1", name: "amlguard (managed identity)" };

/** Settings the harness owns: where ARM and Table Storage are (the sandbox and Azurite), never the scenario. */
const HARNESS_SETTINGS = ["AMLGUARD_ARM_ENDPOINT", "AMLGUARD_TABLE_ENDPOINT", "AzureWebJobsStorage__accountName", "AzureWebJobsStorage", "AMLGUARD_STORAGE_CONNECTION_STRING"];

/** Every decision amlguard records, as it records it (the audit rows are the decisions). */
export class RecordingAuditLog extends AuditLog {
  readonly recorded: AuditEntry[] = [];
  // record() goes through recordAll(): every row, single or batched, passes here.
  override async recordAll(entries: readonly AuditEntry[]) {
    this.recorded.push(...entries);
    return super.recordAll(entries);
  }
}

/**
 * The channel the outbox delivers to in a simulation: it keeps what people would receive (after the router made
 * outside text inert and dropped duplicates within the dedupe window). Every severity is taken, so nothing a
 * channel's threshold would hold back is hidden from the scenario's reader; nothing leaves the machine.
 */
export class RecordingChannel implements AlertChannel {
  readonly name = "teams";
  readonly minSeverity = "low";
  readonly delivered: Alert[] = [];
  async deliver(alerts: readonly Alert[]): Promise<void> {
    this.delivered.push(...alerts);
  }
}

/**
 * amlguard's ARM client, able to let a held-back scenario write land just before amlguard's next write to the same
 * id: a change between amlguard's read and its write, made deterministically.
 */
export class InterleavingArmClient extends ArmClient {
  readonly beforeWrite = new Map<string, Array<() => Promise<void>>>();

  override async put(...args: Parameters<ArmClient["put"]>) {
    await this.interleave(args[0]);
    return super.put(...args);
  }

  override async patch(...args: Parameters<ArmClient["patch"]>) {
    await this.interleave(args[0]);
    return super.patch(...args);
  }

  private async interleave(path: string): Promise<void> {
    const key = path.toLowerCase();
    const queued = this.beforeWrite.get(key);
    if (!queued?.length) return;
    this.beforeWrite.delete(key);
    for (const change of queued) await change();
  }
}

export interface World {
  sandbox: RunningSandbox;
  config: AmlguardConfig;
  runtime: Runtime;
  bot: InterleavingArmClient;
  audit: RecordingAuditLog;
  channel: RecordingChannel;
  principals: Map<string, SimPrincipal>;
  self: SimPrincipal;
  /** Events ARM published and not yet delivered. */
  events: JsonObject[];
  close(): Promise<void>;
}

/**
 * The sandbox seeded with the scenario's resources, Azurite, and amlguard's runtime over them, built from the
 * scenario's settings exactly as the Function App builds it from app settings (loadConfig), with the clock injected.
 */
export async function startWorld(scenario: Scenario, scenarioPath: string, clock: ScenarioClock): Promise<World> {
  const sandbox = await startSandbox({ scenarioPath, clock: clock.nowMs, lroRetryAfterSeconds: 0 });
  let azurite: RunningAzurite | undefined;
  try {
    azurite = await startAzuriteTables();
    const config = loadConfig(appSettings(scenario, { armEndpoint: sandbox.arm.endpoint, connectionString: azurite.connectionString, auth: sandbox.arm.authSettings(SIMULATED_API_AUDIENCE) }));
    const self = selfPrincipal(scenario, config);
    const principals = resolvePrincipals(scenario, self);
    const events: JsonObject[] = [];
    // ARM stamps events with the time of the operation: in a simulation, the scenario's time.
    sandbox.arm.onEvent((event) => events.push({ ...event, eventTime: clock.now().toISOString() }));
    const bot = new InterleavingArmClient({ endpoint: sandbox.arm.endpoint, credential: sandbox.arm.credential(toSandbox(self)), ca: sandbox.arm.ca });
    const target: TableStorageTarget = { connectionString: azurite.connectionString };
    const names = tableNames();
    const table = (name: string) => openTable(target, name);
    const audit = new RecordingAuditLog(await table(names.audit), clock.now);
    const channel = new RecordingChannel();
    const graph = new GraphClient({ endpoint: sandbox.arm.endpoint, credential: sandbox.arm.credential(toSandbox(self)), ca: sandbox.arm.ca });
    const runtime: Runtime = {
      arm: bot,
      ledger: new EventLedger(await table(names.ledger)),
      locks: new ActionLocks(await table(names.locks), undefined, clock.nowMs),
      audit,
      exemptions: new ExemptionStore(await table(names.exemptions)),
      proposals: new ProposalStore(await table(names.proposals)),
      alerting: {
        channels: [channel],
        outbox: new Outbox(await table(names.outbox), { ttlMs: config.alerts.ttlMs, now: clock.nowMs }),
        dedupe: new AlertDedupe(config.alerts.dedupeWindowMs, clock.nowMs),
      },
      manual: {
        allowedSubscriptions: config.subscriptionIds,
        inflight: new InflightRequests(await table(names.inflight), undefined, clock.nowMs),
        rateLimiter: new RateLimiter(await table(names.rateLimit), config.http.rateLimitPerMinute, clock.nowMs),
      },
      sweep: {
        source: () => {
          const { via, managementGroup } = config.sweep;
          if (via === "arm") return armSource(bot, config.subscriptionIds.map((subscriptionId) => ({ subscriptionId })));
          return graphSource(graph, managementGroup ? { managementGroup } : { subscriptions: config.subscriptionIds });
        },
        options: { maxWritesPerSubscription: config.sweep.maxWritesPerSubscription },
      },
      // No retention: the sweep handler prunes by the wall clock, which a scenario's clock does not follow.
      settings: settingsOf(config),
      now: clock.now,
    };
    const running = azurite;
    return { sandbox, config, runtime, bot, audit, channel, principals, self, events, close: async () => void (await Promise.all([sandbox.close(), running.close()])) };
  } catch (error) {
    await Promise.all([sandbox.close(), azurite?.close()]);
    throw error;
  }
}

/**
 * The scenario's app settings as the Function App would read them, with what the harness owns filled in: where ARM
 * and Table Storage are (the sandbox and Azurite), the watched subscriptions (those of the seeded resources unless
 * the settings say otherwise) and amlguard's identity (the harness's unless the settings name one).
 */
/** amlguard's API as the sandbox authority's tokens name it (their `aud`). */
export const SIMULATED_API_AUDIENCE = "api://amlguard-simulate";
/** Where the simulated Function App is reached: http steps' requests and proposals' links in alerts. */
export const SIMULATED_BASE_URL = "https://amlguard.simulate.invalid";

export function appSettings(scenario: Scenario, where: { armEndpoint: string; connectionString: string; auth?: Record<string, string> }): Record<string, string> {
  const env: Record<string, string> = Object.fromEntries(Object.entries(scenario.settings).filter(([key]) => !HARNESS_SETTINGS.includes(key)));
  if (!env.AMLGUARD_SUBSCRIPTION_IDS && !env.AMLGUARD_MANAGEMENT_GROUP) {
    env.AMLGUARD_SUBSCRIPTION_IDS = [...new Set(scenario.resources.map((r) => r.id.split("/")[2]!.toLowerCase()))].join(",");
  }
  if (!env.AMLGUARD_PRINCIPAL_OBJECT_ID && !env.AZURE_CLIENT_ID) {
    env.AMLGUARD_PRINCIPAL_OBJECT_ID = DEFAULT_SELF.objectId;
    env.AZURE_CLIENT_ID = DEFAULT_SELF.appId;
  }
  // Callers of the HTTP API are authenticated against the sandbox's Entra authority unless the scenario says otherwise.
  for (const [name, value] of Object.entries(where.auth ?? {})) env[name] ??= value;
  env.AMLGUARD_PUBLIC_BASE_URL ??= SIMULATED_BASE_URL;
  env.AMLGUARD_ARM_ENDPOINT = where.armEndpoint;
  env.AMLGUARD_STORAGE_CONNECTION_STRING = where.connectionString;
  return env;
}

/** Reads the settings with loadConfig before anything starts: a bad setting is a bad scenario, named as loadConfig names it. */
export function checkSettings(scenario: Scenario): void {
  try {
    loadConfig(appSettings(scenario, { armEndpoint: "https://localhost", connectionString: "UseDevelopmentStorage=true" }));
  } catch (error) {
    if (error instanceof ConfigError) throw new ScenarioError(`bad scenario: settings: ${error.message}`);
    throw error;
  }
}

function selfPrincipal(scenario: Scenario, config: AmlguardConfig): SimPrincipal {
  const spec = Object.entries(scenario.principals).find(([, p]) => "self" in p);
  return {
    key: spec?.[0] ?? "amlguard",
    objectId: config.principalObjectId ?? DEFAULT_SELF.objectId,
    appId: config.clientId ?? DEFAULT_SELF.appId,
    name: (spec && "self" in spec[1] ? spec[1].name : undefined) ?? DEFAULT_SELF.name,
    type: "ServicePrincipal",
    roles: [],
    groups: [],
    self: true,
  };
}

function resolvePrincipals(scenario: Scenario, self: SimPrincipal): Map<string, SimPrincipal> {
  const resolved = new Map<string, SimPrincipal>();
  for (const [key, spec] of Object.entries(scenario.principals)) {
    if ("self" in spec) resolved.set(key, self);
    else resolved.set(key, { key, objectId: spec.objectId, name: spec.name, type: spec.type, roles: spec.roles, groups: spec.groups, self: false, ...(spec.appId ? { appId: spec.appId } : {}) });
  }
  return resolved;
}

export function toSandbox(principal: SimPrincipal): SandboxPrincipal {
  return { objectId: principal.objectId, name: principal.name, type: principal.type, ...(principal.appId ? { appId: principal.appId } : {}) };
}

/** The final state of every seeded resource, keyed by lower-cased id (null when deleted). */
export function finalResources(world: World, scenario: Scenario): Record<string, ArmResource | null> {
  const ids = scenario.resources.map((r) => r.id.toLowerCase());
  return Object.fromEntries(ids.map((id) => [id, world.sandbox.arm.resource(id) ?? null]));
}
