import { z } from "zod";
import type { RuleMode } from "./pipeline/settings.js";
import { RULES } from "./rules/index.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MODES = ["remediate", "alert", "off"] as const;

const csvOfGuids = z
  .string()
  .optional()
  .transform((value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(GUID, "must be a subscription GUID")));

const ruleModes = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const modes: Record<string, RuleMode> = {};
    for (const pair of (value ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
      const [ruleId, mode] = pair.split("=").map((s) => s.trim());
      if (!ruleId || !RULES.some((r) => r.id === ruleId)) ctx.addIssue({ code: "custom", message: `unknown rule id '${ruleId ?? ""}'` });
      else if (!mode || !(MODES as readonly string[]).includes(mode)) ctx.addIssue({ code: "custom", message: `mode for ${ruleId} must be one of ${MODES.join(", ")}` });
      else modes[ruleId] = mode as RuleMode;
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
  .pipe(z.string().regex(GUID, "must be a GUID").optional());

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
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AmlguardConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    // Name the setting and the problem; never echo the value (connection strings carry keys).
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
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
  };
}

/** Identity-based storage first (the deployed default); connection strings for Azurite and local runs. */
function storageOf(c: z.infer<typeof configSchema>): StorageSetting {
  if (c.AMLGUARD_TABLE_ENDPOINT) return { endpoint: c.AMLGUARD_TABLE_ENDPOINT };
  if (c.AzureWebJobsStorage__accountName) return { endpoint: `https://${c.AzureWebJobsStorage__accountName}.table.core.windows.net` };
  const connectionString = c.AMLGUARD_STORAGE_CONNECTION_STRING ?? c.AzureWebJobsStorage;
  return connectionString ? { connectionString } : undefined;
}
