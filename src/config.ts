import { z } from "zod";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const csvOfGuids = z
  .string()
  .optional()
  .transform((value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(GUID, "must be a subscription GUID")));

/** Settings from the environment (Function App settings, local.settings.json or the shell). */
export const configSchema = z.object({
  /** ARM endpoint; sovereign clouds differ (https://management.usgovcloudapi.net). */
  AMLGUARD_ARM_ENDPOINT: z.string().url().startsWith("https://", "must be https").default("https://management.azure.com"),
  /** Subscriptions amlguard watches; none means the embedded sandbox demo. */
  AMLGUARD_SUBSCRIPTION_IDS: csvOfGuids,
});

export interface AmlguardConfig {
  armEndpoint: string;
  subscriptionIds: string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AmlguardConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return {
    armEndpoint: parsed.data.AMLGUARD_ARM_ENDPOINT,
    subscriptionIds: parsed.data.AMLGUARD_SUBSCRIPTION_IDS,
  };
}
