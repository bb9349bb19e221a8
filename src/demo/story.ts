import type { Alert } from "../alerts/alert.js";
import type { OutboxEntry } from "../alerts/outbox.js";
import { modeOf, type PipelineSettings, type RuleMode } from "../pipeline/settings.js";
import { RULES, type Finding } from "../rules/index.js";
import type { Severity } from "../rules/rule.js";
import { SEVERITY_ORDER } from "../shared/types.js";
import type { AuditRecord, Decision } from "../state/audit.js";
import type { UserAction } from "./actions.js";

/**
 * The demo's story as numbers and lists, computed from what the demo recorded (the audit trail, the deliveries, the
 * alerts raised and the outbox), never typed in: the CLI prints it, the tests check that it adds up.
 */

/** One delivery to the Event Grid handler with the audit rows it wrote. */
export interface StoryDelivery {
  eventId: string;
  resourceId: string;
  cause: "user-change" | "redelivery" | "own-write";
  phase: "events" | "sweep";
  rows: AuditRecord[];
}

export interface StoryInput {
  settings: PipelineSettings;
  channels: ReadonlyArray<{ name: string; label: string; minSeverity: Severity; deployedDefault: Severity }>;
  findings: readonly Finding[];
  userActions: readonly UserAction[];
  deliveries: readonly StoryDelivery[];
  audit: readonly AuditRecord[];
  alerts: readonly Alert[];
  suppressed: readonly SuppressedAlert[];
  outbox: readonly OutboxEntry[];
  messages: Record<string, number>;
}

/** An alert the dedupe window kept out of one channel (the same alert was queued there within the window). */
export interface SuppressedAlert {
  channel: string;
  alert: Alert;
}

/** What a delivery came to, by the most consequential decision among the rows it wrote ("ignored" when none). */
export const OUTCOME_ORDER: readonly (Decision | "ignored")[] = [
  "failed", "remediated", "dry-run", "deferred", "alerted", "exempt", "off", "exemption-requested", "exemption-invalid", "not-evaluated",
  "unrecorded-self-write", "own-write", "compliant", "superseded", "duplicate", "gone", "rejected", "ignored",
];

export function outcomeOf(rows: readonly AuditRecord[]): Decision | "ignored" {
  return OUTCOME_ORDER.find((d) => rows.some((r) => r.decision === d)) ?? "ignored";
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts];
}

export interface ModesInForce {
  defaultMode: RuleMode;
  /** Every rule by its mode, overrides first. */
  byMode: Array<{ mode: RuleMode; rules: Array<{ id: string; fix?: string; override: boolean }> }>;
  /** The same, as the app settings that configure it. */
  appSettings: Record<string, string>;
}

export function modesInForce(settings: PipelineSettings): ModesInForce {
  const modes = [...new Set([...Object.values(settings.ruleModes), settings.defaultMode])];
  return {
    defaultMode: settings.defaultMode,
    byMode: modes.map((mode) => ({
      mode,
      rules: RULES.filter((rule) => modeOf(settings, rule.id) === mode).map((rule) => ({ id: rule.id, ...(rule.fix ? { fix: rule.fix } : {}), override: rule.id in settings.ruleModes })),
    })),
    appSettings: {
      AMLGUARD_DEFAULT_MODE: settings.defaultMode,
      AMLGUARD_RULE_MODES: Object.entries(settings.ruleModes).map(([id, mode]) => `${id}=${mode}`).join(","),
    },
  };
}

/** Why a finding of the estate as found is still open after the events, or what an event did about it. */
export type FindingFate = { finding: Finding; decision: Decision | "untouched"; row?: AuditRecord };

const key = (resourceId: string | undefined, ruleId: string | undefined): string => `${(resourceId ?? "").toLowerCase()}|${ruleId ?? ""}`;

/** For each finding as found, the decision an event's delivery took on it, or "untouched" (the sweep's). */
export function fatesAfterEvents(input: Pick<StoryInput, "findings" | "deliveries">): FindingFate[] {
  const decided = new Map<string, AuditRecord>();
  for (const delivery of input.deliveries.filter((d) => d.phase === "events")) for (const row of delivery.rows) if (row.ruleId) decided.set(key(row.resourceId, row.ruleId), row);
  return input.findings.map((finding) => {
    const row = decided.get(key(finding.resourceId, finding.ruleId));
    return row ? { finding, decision: row.decision, row } : { finding, decision: "untouched" };
  });
}

export interface ChannelAccount {
  name: string;
  label: string;
  minSeverity: Severity;
  /** Every alert raised = queued for this channel + suppressed here (same alert within the window) + below its minimum. */
  queued: number;
  suppressed: number;
  belowMinimum: number;
  delivered: number;
  notDelivered: number;
  messages: number;
}

export interface AlertAccount {
  raised: number;
  bySeverity: Array<[Severity, number]>;
  channels: ChannelAccount[];
}

/**
 * Alerts raised, by severity; per channel, raised = queued + suppressed by the dedupe window (kept per channel, beside
 * the channel's queued alerts) + below the channel's minimum severity; queued = delivered + waiting.
 */
export function alertAccount(input: Pick<StoryInput, "alerts" | "suppressed" | "outbox" | "channels" | "messages">): AlertAccount {
  const raisedOf = (severity: Severity): number => input.alerts.filter((a) => a.severity === severity).length;
  return {
    raised: input.alerts.length,
    bySeverity: SEVERITY_ORDER.map((s) => [s, raisedOf(s)] as [Severity, number]).filter(([, n]) => n > 0),
    channels: input.channels.map((channel) => {
      const entries = input.outbox.filter((e) => e.channel === channel.name);
      const floor = SEVERITY_ORDER.indexOf(channel.minSeverity);
      return {
        name: channel.name,
        label: channel.label,
        minSeverity: channel.minSeverity,
        queued: entries.length,
        suppressed: input.suppressed.filter((s) => s.channel === channel.name).length,
        belowMinimum: SEVERITY_ORDER.filter((s) => SEVERITY_ORDER.indexOf(s) > floor).reduce((sum, s) => sum + raisedOf(s), 0),
        delivered: entries.filter((e) => e.status === "delivered").length,
        notDelivered: entries.filter((e) => e.status !== "delivered").length,
        messages: input.messages[channel.name] ?? 0,
      };
    }),
  };
}
