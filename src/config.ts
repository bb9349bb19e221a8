import { GUID_PATTERN, SEVERITIES, type Severity } from "./shared/types.js";
import { z } from "zod";
import type { RuleMode } from "./pipeline/settings.js";
import { canonicalRuleId } from "./rules/index.js";
import { SCHEDULE_DEFAULTS, scheduleProblem } from "./schedule.js";
import { describeIssues } from "./validation.js";
import { parseDuration } from "./shared/duration.js";
import type { EntraAuthSettings } from "./auth/entra-token.js";

const MODES = ["remediate", "approve", "alert", "off"] as const;

const emailList = z
  .string()
  .optional()
  .transform((value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().email("must be email addresses")));

const csvOfGuids = z
  .string()
  .optional()
  .transform((value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(GUID_PATTERN, "must be a subscription GUID")));

const ruleModes = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const modes: Record<string, RuleMode> = {};
    for (const pair of (value ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
      const [ruleId, mode] = pair.split("=").map((s) => s.trim());
      const canonical = ruleId ? canonicalRuleId(ruleId) : undefined;
      if (!ruleId || !canonical) ctx.addIssue({ code: "custom", message: `unknown rule id '${ruleId ?? ""}'` });
      else if (!mode || !(MODES as readonly string[]).includes(mode)) ctx.addIssue({ code: "custom", message: `mode for ${ruleId} must be one of ${MODES.join(", ")}` });
      else modes[canonical] = mode as RuleMode;
    }
    return modes;
  });

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const optionalGuid = z
  .string()
  .optional()
  .transform((v) => (v ? v.trim() : undefined))
  .pipe(z.string().regex(GUID_PATTERN, "must be a GUID").optional());

/** A timer's NCRONTAB schedule (src/schedule.ts), defaulting to the code's own. */
const schedule = (setting: keyof typeof SCHEDULE_DEFAULTS) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const text = value?.trim() || SCHEDULE_DEFAULTS[setting];
      const problem = scheduleProblem(text);
      if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
      return text;
    });

/**
 * A duration in the unit its setting names (…_MINUTES, …_HOURS, …_DAYS): whole numbers only, so "24h" or "1.5" is
 * refused with the unit and the range rather than read as something else.
 */
const duration = (unit: "minutes" | "hours" | "days", min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const text = value?.trim() ?? "";
      if (text === "") return fallback;
      const range = `from ${min} to ${max} ${unit}`;
      if (!/^\d+$/.test(text)) {
        ctx.addIssue({ code: "custom", message: `must be a whole number of ${unit} (the unit is in the setting's name), ${range}, like ${fallback}`, input: value });
        return fallback;
      }
      const n = Number(text);
      if (n < min || n > max) ctx.addIssue({ code: "custom", message: `must be ${range}`, input: value });
      return n;
    });

/** Settings from the environment (Function App settings, local.settings.json or the shell). Table in README. */
export const configSchema = z.object({
  AMLGUARD_ARM_ENDPOINT: z.string().url().startsWith("https://", "must be https").default("https://management.azure.com"),
  AMLGUARD_SUBSCRIPTION_IDS: csvOfGuids,
  AMLGUARD_DEFAULT_MODE: z.enum(MODES).default("alert"),
  AMLGUARD_RULE_MODES: ruleModes,
  AMLGUARD_DRY_RUN: bool,
  AMLGUARD_PRINCIPAL_OBJECT_ID: optionalGuid,
  AZURE_CLIENT_ID: optionalGuid,
  AMLGUARD_MAX_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(30),
  AMLGUARD_TABLE_ENDPOINT: z.string().url().startsWith("https://", "must be https").optional(),
  AMLGUARD_STORAGE_CONNECTION_STRING: z.string().optional(),
  AzureWebJobsStorage: z.string().optional(),
  AzureWebJobsStorage__accountName: z.string().regex(/^[a-z0-9]{3,24}$/, "must be a storage account name").optional(),
  // Alerts. The webhook URL is a secret (its sig parameter): a Key Vault reference in Azure, never logged.
  AMLGUARD_TEAMS_WEBHOOK_URL: z.string().url("must be a URL").startsWith("https://", "must be https").optional(),
  AMLGUARD_TEAMS_MIN_SEVERITY: z.enum(SEVERITIES).default("medium"),
  AMLGUARD_EMAIL_TO: emailList,
  AMLGUARD_EMAIL_FROM: z.string().email("must be an email address").optional(),
  AMLGUARD_EMAIL_MIN_SEVERITY: z.enum(SEVERITIES).default("high"),
  AMLGUARD_ACS_ENDPOINT: z.string().url("must be a URL").startsWith("https://", "must be https").optional(),
  AMLGUARD_SMTP_URL: z.string().regex(/^smtps?:\/\//, "must be smtp:// or smtps://").optional(),
  AMLGUARD_ALERT_DEDUPE_MINUTES: duration("minutes", 0, 10_080, 60),
  AMLGUARD_ALERT_TTL_HOURS: duration("hours", 1, 168, 24),
  AMLGUARD_OUTBOX_SCHEDULE: schedule("AMLGUARD_OUTBOX_SCHEDULE"),
  AMLGUARD_PORTAL_URL: z.string().url().startsWith("https://").default("https://portal.azure.com"),
  // Mode approve: how long a proposal waits for a decision, and where the Function App is reached (links in alerts).
  AMLGUARD_PROPOSAL_TTL: z
    .string()
    .default("PT24H")
    .transform((text, ctx) => {
      const ms = parseDuration(text.trim());
      if (ms === undefined) ctx.addIssue({ code: "custom", input: text, message: "must be an ISO 8601 duration like PT12H or P2D (no months or years)" });
      else if (ms < 15 * 60_000 || ms > 14 * 86_400_000) ctx.addIssue({ code: "custom", input: text, message: "must be between 15 minutes (PT15M) and 14 days (P14D)" });
      return ms ?? 0;
    }),
  AMLGUARD_PUBLIC_BASE_URL: z
    .string()
    .url("must be a URL")
    .refine((value) => /^https:\/\//.test(value) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(value), "must be https (http only on loopback)")
    .refine((value) => !/[?#]/.test(value), "must be a base URL without query or fragment")
    .transform((value) => value.replace(/\/+$/, ""))
    .optional(),
  // Manual remediation over HTTP (behind App Service authentication).
  AMLGUARD_HTTP_REMEDIATE_ROLE: z.string().regex(/^[\w.-]{1,100}$/).default("AmlGuard.Remediate"),
  AMLGUARD_HTTP_READ_ROLE: z.string().regex(/^[\w.-]{1,100}$/).default("AmlGuard.Read"),
  AMLGUARD_HTTP_REMEDIATE_GROUPS: z
    .string()
    .optional()
    .transform((value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(GUID_PATTERN, "must be group object ids"))),
  AMLGUARD_HTTP_READ_GROUPS: z
    .string()
    .optional()
    .transform((value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(GUID_PATTERN, "must be group object ids"))),
  // Approving and revoking exemptions (POST/DELETE /api/exemptions): a role of its own, never implied by remediate.
  AMLGUARD_HTTP_EXEMPT_ROLE: z.string().regex(/^[\w.-]{1,100}$/).default("AmlGuard.Exempt"),
  AMLGUARD_HTTP_EXEMPT_GROUPS: z
    .string()
    .optional()
    .transform((value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(GUID_PATTERN, "must be group object ids"))),
  AMLGUARD_EXEMPTION_MAX_DAYS: duration("days", 1, 366, 90),
  AMLGUARD_HTTP_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1000).default(10),
  // Callers of the HTTP API: Entra access tokens validated in-process (src/auth/entra-token.ts).
  AMLGUARD_AUTH_TENANT_ID: optionalGuid,
  AMLGUARD_AUTH_AUDIENCE: z
    .string()
    .optional()
    .transform((value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(api|https):\/\/\S{1,200})$/i, "must be the API app's client id (a GUID) or app id URI (api://… or https://…)"))),
  AMLGUARD_AUTH_AUTHORITY_HOST: z
    .string()
    .url("must be a URL")
    .startsWith("https://", "must be https")
    .refine((value) => !/[?#]/.test(value), "must be a host without query or fragment")
    .default("https://login.microsoftonline.com"),
  // The approval page's single-page application registration (src/approval-page/): it signs approvers in.
  AMLGUARD_APPROVAL_CLIENT_ID: optionalGuid,
  // Reconciliation sweep.
  AMLGUARD_MANAGEMENT_GROUP: z.string().regex(/^[-\w.()]{1,90}$/, "must be a management group id").optional(),
  AMLGUARD_SWEEP_VIA: z.enum(["graph", "arm"]).default("graph"),
  AMLGUARD_SWEEP_MAX_WRITES_PER_SUBSCRIPTION: z.coerce.number().int().min(0).max(10_000).default(100),
  AMLGUARD_SWEEP_SCHEDULE: schedule("AMLGUARD_SWEEP_SCHEDULE"),
  // Failed-authentication spikes.
  AMLGUARD_LOG_ANALYTICS_WORKSPACE_ID: optionalGuid,
  AMLGUARD_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID: z.string().regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/]+$/i, "must be a Log Analytics workspace resource id").optional(),
  AMLGUARD_LOG_ANALYTICS_ENDPOINT: z.string().regex(/^https:\/\/.+\/v1$/, "must be https and end in /v1").default("https://api.loganalytics.io/v1"),
  AMLGUARD_SPIKES_SCHEDULE: schedule("AMLGUARD_SPIKES_SCHEDULE"),
});

export type StorageSetting = { connectionString: string } | { endpoint: string } | undefined;

export interface AmlguardConfig {
  armEndpoint: string;
  subscriptionIds: string[];
  defaultMode: RuleMode;
  ruleModes: Record<string, RuleMode>;
  dryRun: boolean;
  principalObjectId?: string;
  clientId?: string;
  maxDeliveryAttempts: number;
  storage: StorageSetting;
  alerts: AlertConfig;
  http: HttpAccessConfig;
  /** Who may call the HTTP API; absent when not configured (the HTTP API then refuses everyone). */
  auth?: EntraAuthSettings;
  /** The approval page's SPA app registration (AMLGUARD_APPROVAL_CLIENT_ID); absent: no page, the CLI still decides. */
  approvalClientId?: string;
  sweep: { via: "graph" | "arm"; managementGroup?: string; maxWritesPerSubscription: number };
  logAnalytics?: { workspaceId: string; workspaceResourceId?: string; endpoint: string };
  /** Mode approve: how long a proposal may wait for a decision (AMLGUARD_PROPOSAL_TTL). */
  proposalTtlMs: number;
  /** The Function App's public base URL (AMLGUARD_PUBLIC_BASE_URL): alerts link proposals under it. */
  publicBaseUrl?: string;
}

/** Who may call the HTTP functions: an app role or a group, per operation. */
export interface HttpAccessConfig {
  remediateRole: string;
  readRole: string;
  remediateGroups: string[];
  readGroups: string[];
  /** Approves and revokes exemptions (AMLGUARD_HTTP_EXEMPT_ROLE); absent: "AmlGuard.Exempt". */
  exemptRole?: string;
  exemptGroups?: string[];
  /** The longest an exemption may run (AMLGUARD_EXEMPTION_MAX_DAYS); absent: 90. */
  exemptionMaxDays?: number;
  rateLimitPerMinute: number;
}


export interface AlertConfig {
  teams?: { webhookUrl: string; minSeverity: Severity };
  email?: { to: string[]; from: string; minSeverity: Severity; via: { acsEndpoint: string } | { smtpUrl: string } };
  dedupeWindowMs: number;
  ttlMs: number;
  portalUrl: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const SECRET_SETTINGS = /WEBHOOK|SMTP_URL|CONNECTION_STRING|^AzureWebJobsStorage$/;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AmlguardConfig {
  // An empty setting (as in local.settings.sample.json) means "not set".
  const parsed = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== "")), { reportInput: true });
  if (!parsed.success) {
    // Name the setting, the value and the problem; never echo a secret (webhook signatures, passwords, account keys).
    const nameOf = (path: readonly PropertyKey[]) => ({ name: String(path[0] ?? "settings"), secret: SECRET_SETTINGS.test(String(path[0])) });
    throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error.issues, nameOf, 10)}`);
  }
  const c = parsed.data;
  return {
    armEndpoint: c.AMLGUARD_ARM_ENDPOINT,
    subscriptionIds: c.AMLGUARD_SUBSCRIPTION_IDS,
    defaultMode: c.AMLGUARD_DEFAULT_MODE,
    ruleModes: c.AMLGUARD_RULE_MODES,
    dryRun: c.AMLGUARD_DRY_RUN,
    ...(c.AMLGUARD_PRINCIPAL_OBJECT_ID ? { principalObjectId: c.AMLGUARD_PRINCIPAL_OBJECT_ID } : {}),
    ...(c.AZURE_CLIENT_ID ? { clientId: c.AZURE_CLIENT_ID } : {}),
    maxDeliveryAttempts: c.AMLGUARD_MAX_DELIVERY_ATTEMPTS,
    storage: storageOf(c),
    alerts: alertsOf(c),
    http: {
      remediateRole: c.AMLGUARD_HTTP_REMEDIATE_ROLE,
      readRole: c.AMLGUARD_HTTP_READ_ROLE,
      remediateGroups: c.AMLGUARD_HTTP_REMEDIATE_GROUPS,
      readGroups: c.AMLGUARD_HTTP_READ_GROUPS,
      exemptRole: c.AMLGUARD_HTTP_EXEMPT_ROLE,
      exemptGroups: c.AMLGUARD_HTTP_EXEMPT_GROUPS,
      exemptionMaxDays: c.AMLGUARD_EXEMPTION_MAX_DAYS,
      rateLimitPerMinute: c.AMLGUARD_HTTP_RATE_LIMIT_PER_MINUTE,
    },
    ...authOf(c),
    ...(c.AMLGUARD_APPROVAL_CLIENT_ID ? { approvalClientId: c.AMLGUARD_APPROVAL_CLIENT_ID } : {}),
    ...(c.AMLGUARD_LOG_ANALYTICS_WORKSPACE_ID
      ? {
          logAnalytics: {
            workspaceId: c.AMLGUARD_LOG_ANALYTICS_WORKSPACE_ID,
            ...(c.AMLGUARD_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID ? { workspaceResourceId: c.AMLGUARD_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID } : {}),
            endpoint: c.AMLGUARD_LOG_ANALYTICS_ENDPOINT,
          },
        }
      : {}),
    proposalTtlMs: c.AMLGUARD_PROPOSAL_TTL,
    ...(c.AMLGUARD_PUBLIC_BASE_URL ? { publicBaseUrl: c.AMLGUARD_PUBLIC_BASE_URL } : {}),
    sweep: {
      via: c.AMLGUARD_SWEEP_VIA,
      ...(c.AMLGUARD_MANAGEMENT_GROUP ? { managementGroup: c.AMLGUARD_MANAGEMENT_GROUP } : {}),
      maxWritesPerSubscription: c.AMLGUARD_SWEEP_MAX_WRITES_PER_SUBSCRIPTION,
    },
  };
}

function alertsOf(c: z.infer<typeof configSchema>): AlertConfig {
  const via = c.AMLGUARD_ACS_ENDPOINT ? { acsEndpoint: c.AMLGUARD_ACS_ENDPOINT } : c.AMLGUARD_SMTP_URL ? { smtpUrl: c.AMLGUARD_SMTP_URL } : undefined;
  if (c.AMLGUARD_EMAIL_TO.length > 0 && (!via || !c.AMLGUARD_EMAIL_FROM)) {
    throw new ConfigError("invalid configuration: AMLGUARD_EMAIL_TO needs AMLGUARD_EMAIL_FROM and AMLGUARD_ACS_ENDPOINT or AMLGUARD_SMTP_URL");
  }
  return {
    ...(c.AMLGUARD_TEAMS_WEBHOOK_URL ? { teams: { webhookUrl: c.AMLGUARD_TEAMS_WEBHOOK_URL, minSeverity: c.AMLGUARD_TEAMS_MIN_SEVERITY } } : {}),
    ...(via && c.AMLGUARD_EMAIL_FROM && c.AMLGUARD_EMAIL_TO.length
      ? { email: { to: c.AMLGUARD_EMAIL_TO, from: c.AMLGUARD_EMAIL_FROM, minSeverity: c.AMLGUARD_EMAIL_MIN_SEVERITY, via } }
      : {}),
    dedupeWindowMs: c.AMLGUARD_ALERT_DEDUPE_MINUTES * 60_000,
    ttlMs: c.AMLGUARD_ALERT_TTL_HOURS * 3_600_000,
    portalUrl: c.AMLGUARD_PORTAL_URL,
  };
}

/** Both settings or neither: a tenant without an audience (or the reverse) would accept nobody, silently. */
function authOf(c: z.infer<typeof configSchema>): { auth?: EntraAuthSettings } {
  const tenantId = c.AMLGUARD_AUTH_TENANT_ID;
  const audiences = c.AMLGUARD_AUTH_AUDIENCE;
  if (!tenantId && audiences.length === 0) return {};
  if (!tenantId || audiences.length === 0) {
    throw new ConfigError("invalid configuration: AMLGUARD_AUTH_TENANT_ID and AMLGUARD_AUTH_AUDIENCE go together (the tenant that issues callers' tokens and amlguard's API app id)");
  }
  return { auth: { tenantId, audiences, authorityHost: c.AMLGUARD_AUTH_AUTHORITY_HOST.replace(/\/+$/, "") } };
}

/** Identity-based storage first (the deployed default); connection strings for Azurite and local runs. */
function storageOf(c: z.infer<typeof configSchema>): StorageSetting {
  if (c.AMLGUARD_TABLE_ENDPOINT) return { endpoint: c.AMLGUARD_TABLE_ENDPOINT };
  if (c.AzureWebJobsStorage__accountName) return { endpoint: `https://${c.AzureWebJobsStorage__accountName}.table.core.windows.net` };
  const connectionString = c.AMLGUARD_STORAGE_CONNECTION_STRING ?? c.AzureWebJobsStorage;
  return connectionString ? { connectionString } : undefined;
}
