/**
 * azd postdeploy (infra/hooks/postdeploy.sh): in every watched subscription, find the subscription's Event Grid system
 * topic wherever it lives (or create one if there is none), give its identity the dead-letter role, and subscribe
 * amlguard's resourceEvents function to it (infra/eventgrid.bicep). Idempotent: a second `azd up` finds the topic the
 * first one created, reuses it, and redeploys the same resources with the same names, which changes nothing.
 * Every `az` call goes through one injected function, so tests replay recorded outputs (test/fixtures/az/).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { packageRoot } from "../src/paths.js";
import { decide, deadLetterIdentityOf, parametersFile, PlanError, type AmlguardDeployment, type SystemTopic, type TopicDecision } from "./event-grid-plan.js";

/** Runs `az` with these arguments and returns its standard output (JSON with `-o json`). */
export type Az = (args: string[]) => Promise<string>;

export interface PostdeployOptions {
  az: Az;
  log: (line: string) => void;
  /** Waits between re-reads of a topic whose new identity has no principal id yet (injected: tests do not wait). */
  pause?: () => Promise<void>;
  /** Re-reads allowed for that; each a pause apart. */
  identityReads?: number;
}

export interface SubscriptionResult {
  subscriptionId: string;
  decision: "created" | "reused" | "reused after enabling its identity";
  topicId: string;
  deployment: string;
}

const TEMPLATE = join(packageRoot(), "infra", "eventgrid.bicep");

/** The deployment from azd's environment (main.bicep's outputs and azd's own variables); a clear error if one is missing. */
export function deploymentFromEnv(env: NodeJS.ProcessEnv): { deployment: AmlguardDeployment; watched: string[] } {
  const need = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new PlanError(`${name} is not set: run this through azd (azure.yaml's postdeploy hook), which sets it from main.bicep's outputs`);
    return value;
  };
  const attempts = Number(env.AMLGUARD_MAX_DELIVERY_ATTEMPTS ?? "30");
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 30) throw new PlanError("AMLGUARD_MAX_DELIVERY_ATTEMPTS must be a whole number from 1 to 30");
  const deployment: AmlguardDeployment = {
    environmentName: need("AZURE_ENV_NAME"),
    location: need("AZURE_LOCATION"),
    subscriptionId: need("AZURE_SUBSCRIPTION_ID"),
    resourceGroup: need("AZURE_RESOURCE_GROUP"),
    functionAppId: need("AMLGUARD_FUNCTION_APP_ID"),
    storageAccountId: need("AMLGUARD_STORAGE_ACCOUNT_ID"),
    maxDeliveryAttempts: attempts,
  };
  const watched = need("AMLGUARD_WATCHED_SUBSCRIPTION_IDS").split(",").map((s) => s.trim()).filter(Boolean);
  for (const id of watched) if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new PlanError(`AMLGUARD_WATCHED_SUBSCRIPTION_IDS: '${id.slice(0, 40)}' is not a subscription id`);
  return { deployment, watched };
}

export async function postdeploy(deployment: AmlguardDeployment, watched: readonly string[], options: PostdeployOptions): Promise<SubscriptionResult[]> {
  const { az, log } = options;
  const scratch = await mkdtemp(join(tmpdir(), "amlguard-postdeploy-"));
  try {
    const results: SubscriptionResult[] = [];
    for (const subscriptionId of watched) {
      const topics = parse<SystemTopic[]>(await az(["eventgrid", "system-topic", "list", "--subscription", subscriptionId, "-o", "json"]), "system-topic list");
      let decision: TopicDecision = decide(deployment, subscriptionId, topics);
      let enabled = false;
      if (decision.kind === "enable-identity") {
        // A topic someone else made, without any identity: dead-lettering needs one. Adding a system-assigned
        // identity changes nothing else on it; said out loud because the topic is not amlguard's.
        log(`amlguard: system topic ${decision.topicId} has no managed identity; enabling a system-assigned one for dead-lettering`);
        const updated = await enableIdentity(decision, subscriptionId, options);
        decision = decide(deployment, subscriptionId, [updated]);
        enabled = true;
        if (decision.kind === "enable-identity") throw new PlanError(`system topic ${decision.topicId} still reports no principal id for its identity; re-run azd up in a few minutes`);
      }
      const name = `amlguard-events-${deployment.environmentName}`;
      const file = join(scratch, `${subscriptionId}.parameters.json`);
      await writeFile(file, parametersFile(decision.parameters));
      await az(["deployment", "sub", "create", "--subscription", subscriptionId, "--location", deployment.location, "--name", name, "--template-file", TEMPLATE, "--parameters", `@${file}`, "-o", "none"]);
      const topicId = decision.kind === "reuse" ? decision.topicId : `/subscriptions/${subscriptionId}/resourceGroups/${decision.parameters.topicResourceGroup}/providers/Microsoft.EventGrid/systemTopics/${decision.parameters.topicName}`;
      const result: SubscriptionResult = { subscriptionId, decision: decision.kind === "create" ? "created" : enabled ? "reused after enabling its identity" : "reused", topicId, deployment: name };
      log(`amlguard: ${subscriptionId}: system topic ${result.decision} (${topicId}); event subscription amlguard-ml-writes -> resourceEvents`);
      results.push(result);
    }
    return results;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function enableIdentity(decision: Extract<TopicDecision, { kind: "enable-identity" }>, subscriptionId: string, options: PostdeployOptions): Promise<SystemTopic> {
  const target = ["--subscription", subscriptionId, "--resource-group", decision.resourceGroup, "--name", decision.topicName, "-o", "json"];
  let topic = parse<SystemTopic>(await options.az(["eventgrid", "system-topic", "update", ...target, "--identity", "systemassigned"]), "system-topic update");
  // The principal id can lag the update; re-read a bounded number of times.
  for (let read = 0; !deadLetterIdentityOf(topic) && read < (options.identityReads ?? 6); read++) {
    await (options.pause ?? (() => sleep(10_000)))();
    topic = parse<SystemTopic>(await options.az(["eventgrid", "system-topic", "show", ...target]), "system-topic show");
  }
  return topic;
}

function parse<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new PlanError(`az ${what} did not print JSON`);
  }
}

/** The real `az`: its errors reach the user as az wrote them (no stack), and its output is not logged. */
export const azCli: Az = (args) =>
  new Promise((resolve, reject) => {
    execFile("az", args, { encoding: "utf8", maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error) reject(new PlanError(`az ${args.slice(0, 3).join(" ")} failed: ${(stderr || error.message).trim().split("\n").slice(-3).join(" ")}`));
      else resolve(stdout);
    });
  });

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  try {
    const { deployment, watched } = deploymentFromEnv(process.env);
    await postdeploy(deployment, watched, { az: azCli, log: (line) => process.stdout.write(`${line}\n`) });
  } catch (error) {
    process.stderr.write(`postdeploy: ${error instanceof PlanError ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
