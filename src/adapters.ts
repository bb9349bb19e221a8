import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { ArmClient } from "./azure/arm-client.js";
import type { AmlguardConfig } from "./config.js";

/** The one place Azure clients are made from validated config; the core receives them ready to use. */
export function createAzureArmClient(config: AmlguardConfig, credential: TokenCredential = new DefaultAzureCredential()): ArmClient {
  return new ArmClient({ endpoint: config.armEndpoint, credential });
}
