import { ArmClient } from "../azure/arm-client.js";
import { GraphClient } from "../azure/graph-client.js";
import { ArmSandbox, type ArmSandboxOptions } from "./arm/server.js";
import { builtInScenarioPath, loadScenario, type Scenario } from "./scenario.js";

export { ArmSandbox, SANDBOX_OPERATOR, type ArmSandboxOptions, type RequestRecord } from "./arm/server.js";
export { STABLE_API_VERSIONS } from "./arm/api-versions.js";
export type { JobSubmission } from "./arm/nodes.js";
export { entraIssuer, SandboxAuthority, type MintOptions } from "./openid.js";

export interface RunningSandbox {
  arm: ArmSandbox;
  scenario: Scenario;
  /** Subscriptions the scenario holds, in order of first appearance. */
  subscriptionIds: string[];
  /** An ARM client for the bot, over the real SDK pipeline, trusting the sandbox's certificate. */
  armClient: ArmClient;
  /** A Resource Graph client over the same sandbox endpoint. */
  graphClient: GraphClient;
  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean;
  close(): Promise<void>;
}

/** Starts the embedded Azure sandbox seeded from a scenario file (the built-in demo estate by default). */
export async function startSandbox(options: ArmSandboxOptions & { scenarioPath?: string } = {}): Promise<RunningSandbox> {
  const scenario = await loadScenario(options.scenarioPath ?? builtInScenarioPath("demo"));
  const arm = await new ArmSandbox(options).start();
  arm.seed(scenario.resources, { resourceGroups: scenario.resourceGroups });
  const subscriptionIds = [...new Set(scenario.resources.map((r) => r.id.split("/")[2]!.toLowerCase()))];
  const credential = arm.credential();
  const armClient = new ArmClient({ endpoint: arm.endpoint, credential, ca: arm.ca });
  const graphClient = new GraphClient({ endpoint: arm.endpoint, credential, ca: arm.ca });
  const groups = new Set(
    [...scenario.resources.map((r) => r.id.split("/").slice(2, 5)), ...scenario.resourceGroups.map((g) => [g.subscriptionId, "", g.name])].map(
      ([subscription, , group]) => `${subscription}/${group}`.toLowerCase(),
    ),
  );
  return {
    arm,
    scenario,
    subscriptionIds,
    armClient,
    graphClient,
    hasResourceGroup: (subscriptionId, resourceGroup) => groups.has(`${subscriptionId}/${resourceGroup}`.toLowerCase()),
    close: () => arm.close(),
  };
}
