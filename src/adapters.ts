import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { ArmClient } from "./azure/arm-client.js";
import { GraphClient } from "./azure/graph-client.js";
import type { AmlguardConfig } from "./config.js";

/** The one place Azure clients are made from validated config; the core receives them ready to use. */
export function createAzureGraphClient(config: AmlguardConfig, credential: TokenCredential = new DefaultAzureCredential()): GraphClient {
  return new GraphClient({ endpoint: config.armEndpoint, credential });
}

export function createAzureArmClient(config: AmlguardConfig, credential: TokenCredential = new DefaultAzureCredential()): ArmClient {
  return new ArmClient({ endpoint: config.armEndpoint, credential });
}
