import type { SelfIdentity } from "../events/triage.js";

/** remediate: fix at once; approve: propose the fix, a second person approves it; alert: tell a person; off. */
export type RuleMode = "remediate" | "approve" | "alert" | "off";

/** How the pipeline acts: per-rule modes over a default, a global dry-run switch, and its own identity. */
export interface PipelineSettings {
  defaultMode: RuleMode;
  ruleModes: Readonly<Record<string, RuleMode>>;
  dryRun: boolean;
  self: SelfIdentity;
  /** Matches the Event Grid subscription's retry policy: the delivery that reaches it alerts instead of throwing. */
  maxDeliveryAttempts: number;
  /** The Log Analytics workspace the spike detector queries: rules check that logs reach it. */
  spikeWorkspaceResourceId?: string;
  /** Mode approve: how long a proposal waits for a decision (default 24 h). */
  proposalTtlMs?: number;
  /** Where the Function App is reached: alerts link proposals at {publicBaseUrl}/api/proposals/{id}. */
  publicBaseUrl?: string;
}

export function modeOf(settings: PipelineSettings, ruleId: string): RuleMode {
  return settings.ruleModes[ruleId] ?? settings.defaultMode;
}
