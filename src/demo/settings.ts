import type { Severity } from "../rules/rule.js";
import type { PipelineSettings } from "../pipeline/settings.js";
import type { SandboxPrincipal } from "../sandbox/events.js";

export const DEMO_BOT: SandboxPrincipal = { objectId: "0b07b07b-0000-4000-8000-000000000b07", appId: "a11a11a1-0000-4000-8000-0000000000a1", name: "amlguard (managed identity)", type: "ServicePrincipal" };
export const DEMO_USER: SandboxPrincipal = { objectId: "5e5e5e5e-1111-4000-8000-000000000005", name: "alice@contoso.example", type: "User" };
/** The security engineer holding AmlGuard.Exempt: the tag alice writes is a request; bob approves it. */
export const DEMO_APPROVER = { objectId: "5ec5ec00-2222-4000-8000-00000000005e", name: "bob@contoso.example", principalType: "User" };

/**
 * The demo's modes. The deployed default is alert-only (amlguard writes nothing until told to); the demo opts the five
 * high-severity exposures whose fix is reversible and deletes nothing into remediate, as a team would after a trial,
 * and turns one rule off, so every mode shows up in the story.
 */
export const DEMO_SETTINGS: PipelineSettings = {
  defaultMode: "alert",
  ruleModes: {
    "workspace-public-network-access": "remediate",
    "endpoint-public-network-access": "remediate",
    "registry-public-network-access": "remediate",
    "compute-node-public-ip": "remediate",
    "compute-public-ssh": "remediate",
    "compute-instance-idle-shutdown": "off",
  },
  dryRun: false,
  self: { objectId: DEMO_BOT.objectId, clientId: DEMO_BOT.appId },
  maxDeliveryAttempts: 30,
};

/** Why each override is there, printed with the modes. */
export const DEMO_MODE_REASONS: Record<string, string> = {
  remediate: "high severity, reversible, never deletes anything",
  off: "a cost rule; this team tracks idle compute elsewhere",
};

/** The demo's alert channels and their lowest severity (Teams lower than its deployed default, medium, to show more). */
export const DEMO_CHANNELS: ReadonlyArray<{ name: "teams" | "email"; label: string; minSeverity: Severity; deployedDefault: Severity }> = [
  { name: "teams", label: "Teams (Workflows webhook)", minSeverity: "low", deployedDefault: "medium" },
  { name: "email", label: "email", minSeverity: "high", deployedDefault: "high" },
];

export const DEDUPE_WINDOW_MS = 3_600_000;
