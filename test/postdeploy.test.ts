import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decide, NEW_TOPIC_NAME, PlanError, type AmlguardDeployment, type EventGridParameters, type SystemTopic } from "../scripts/event-grid-plan.js";
import { deploymentFromEnv, postdeploy, type Az } from "../scripts/postdeploy.js";

// Recorded `az` outputs built from Azure's published examples: test/fixtures/az/SOURCES.md.
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "az", name), "utf8")) as T;

const OWN = "5b4b650e-28b9-4790-b3ab-ddbd88d727c4";
const DEFENDED = "7c2d1e4f-0a9b-4c8d-9e6f-1a2b3c4d5e6f";
const BARE = "9e8d7c6b-5a49-4838-a726-150403020100";

const deployment: AmlguardDeployment = {
  environmentName: "prod",
  location: "westeurope",
  subscriptionId: OWN,
  resourceGroup: "rg-amlguard-prod",
  functionAppId: `/subscriptions/${OWN}/resourceGroups/rg-amlguard-prod/providers/Microsoft.Web/sites/func-amlguard-abc`,
  storageAccountId: `/subscriptions/${OWN}/resourceGroups/rg-amlguard-prod/providers/Microsoft.Storage/storageAccounts/stamlguardabc`,
  maxDeliveryAttempts: 30,
};

interface Call {
  args: string[];
  parameters?: EventGridParameters;
}

/**
 * Azure as `az` shows it, per subscription: `list`, `show` and `update` answer from the topics held, and a deployment
 * of infra/eventgrid.bicep with createTopic adds the topic it creates (with the identity the template gives it).
 */
function fakeAzure(topics: Record<string, SystemTopic[]>, updated: SystemTopic = fixture("system-topic-update.identity.json")) {
  const calls: Call[] = [];
  const value = (args: string[], flag: string): string => args[args.indexOf(flag) + 1]!;
  const az: Az = async (args) => {
    const subscription = value(args, "--subscription");
    const command = args.slice(0, 3).join(" ");
    if (command === "eventgrid system-topic list") {
      calls.push({ args });
      return JSON.stringify(topics[subscription] ?? []);
    }
    if (command === "eventgrid system-topic update" || command === "eventgrid system-topic show") {
      calls.push({ args });
      const list = topics[subscription] ?? [];
      const index = list.findIndex((t) => t.name === value(args, "--name"));
      if (command === "eventgrid system-topic update") list[index] = updated;
      return JSON.stringify(list[index]);
    }
    if (command === "deployment sub create") {
      const file = JSON.parse(readFileSync(value(args, "--parameters").slice(1), "utf8")) as { parameters: Record<string, { value: unknown }> };
      const parameters = Object.fromEntries(Object.entries(file.parameters).map(([k, v]) => [k, v.value])) as unknown as EventGridParameters;
      calls.push({ args, parameters });
      if (parameters.createTopic) {
        const id = `/subscriptions/${subscription}/resourceGroups/${parameters.topicResourceGroup}/providers/Microsoft.EventGrid/systemTopics/${parameters.topicName}`;
        (topics[subscription] ??= []).push({ id, name: parameters.topicName, resourceGroup: parameters.topicResourceGroup, source: `/subscriptions/${subscription}`, topicType: "Microsoft.Resources.Subscriptions", identity: { type: "SystemAssigned", principalId: `principal-of-${parameters.topicName}` } });
      }
      return "";
    }
    throw new Error(`unexpected az ${args.join(" ")}`);
  };
  const writes = () => calls.filter((c) => !c.args.includes("list") && !c.args.includes("show"));
  return { az, calls, writes };
}

const quiet = { log: () => undefined, pause: async () => undefined };

describe("postdeploy: the subscription's system topic, wherever it lives", () => {
  it("reuses an existing system topic in another resource group, with dead-lettering through its identity", async () => {
    const azure = fakeAzure({ [DEFENDED]: fixture("system-topic-list.other-resource-group.json") });
    const [result] = await postdeploy(deployment, [DEFENDED], { az: azure.az, ...quiet });
    expect(result!.decision).toBe("reused");
    const [deploy] = azure.writes();
    expect(deploy!.args.slice(0, 5)).toEqual(["deployment", "sub", "create", "--subscription", DEFENDED]);
    expect(deploy!.parameters).toMatchObject({
      topicResourceGroup: "Default-EventGrid",
      topicName: `${DEFENDED}-1f3c5e7a`,
      createTopic: false,
      createResourceGroup: false,
      deadLetterIdentity: { type: "SystemAssigned" },
      deadLetterPrincipalId: "4b1e2a3c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
      functionAppId: deployment.functionAppId,
      storageAccountId: deployment.storageAccountId,
    });
    expect(azure.writes()).toHaveLength(1); // nothing else touched
  });

  it("creates a topic only when the subscription has none (another resource's topic does not count)", () => {
    const decision = decide(deployment, OWN, fixture("system-topic-list.none.json"));
    expect(decision).toMatchObject({ kind: "create", parameters: { topicResourceGroup: "rg-amlguard-prod", topicName: NEW_TOPIC_NAME, createTopic: true, createResourceGroup: false } });
  });

  it("a second azd up finds the topic the first created and changes nothing", async () => {
    const azure = fakeAzure({ [OWN]: fixture("system-topic-list.none.json") });
    const first = await postdeploy(deployment, [OWN], { az: azure.az, ...quiet });
    const firstWrites = azure.writes().length;
    const state = JSON.stringify(await azure.az(["eventgrid", "system-topic", "list", "--subscription", OWN, "-o", "json"]));
    const second = await postdeploy(deployment, [OWN], { az: azure.az, ...quiet });

    expect(first[0]!.decision).toBe("created");
    expect(second[0]!.decision).toBe("reused");
    expect(second[0]!.topicId).toBe(first[0]!.topicId);
    // The second run only redeploys the same declarative template onto the same topic: same names, same identity.
    const [, again] = azure.writes().filter((c) => c.parameters);
    expect(azure.writes()).toHaveLength(firstWrites + 1);
    expect(again!.parameters).toMatchObject({ topicResourceGroup: "rg-amlguard-prod", topicName: NEW_TOPIC_NAME, createTopic: false, deadLetterPrincipalId: `principal-of-${NEW_TOPIC_NAME}` });
    expect(again!.args).toContain("amlguard-events-prod");
    expect(JSON.stringify(await azure.az(["eventgrid", "system-topic", "list", "--subscription", OWN, "-o", "json"]))).toBe(state);
  });

  it("covers three watched subscriptions: none (created), another tool's topic (reused), a topic without identity (identity enabled)", async () => {
    const azure = fakeAzure({ [OWN]: fixture("system-topic-list.none.json"), [DEFENDED]: fixture("system-topic-list.other-resource-group.json"), [BARE]: fixture("system-topic-list.no-identity.json") });
    const lines: string[] = [];
    const results = await postdeploy(deployment, [OWN, DEFENDED, BARE], { az: azure.az, log: (l) => lines.push(l), pause: quiet.pause });

    expect(results.map((r) => [r.subscriptionId, r.decision])).toEqual([
      [OWN, "created"],
      [DEFENDED, "reused"],
      [BARE, "reused after enabling its identity"],
    ]);
    const deploys = azure.writes().filter((c) => c.parameters);
    expect(deploys.map((c) => c.args[4])).toEqual([OWN, DEFENDED, BARE]);
    expect(deploys[2]!.parameters).toMatchObject({ topicResourceGroup: "security-tools", topicName: "subscription-events", deadLetterPrincipalId: "6d7e8f90-a1b2-4c3d-9e4f-5a6b7c8d9e0f" });
    const update = azure.writes().find((c) => c.args.includes("update"))!;
    expect(update.args).toEqual(expect.arrayContaining(["--subscription", BARE, "--resource-group", "security-tools", "--name", "subscription-events", "--identity", "systemassigned"]));
    expect(lines.some((l) => l.includes("has no managed identity; enabling a system-assigned one"))).toBe(true);
  });

  it("a new topic in another watched subscription goes to a resource group made for it there", () => {
    const decision = decide(deployment, BARE, []);
    expect(decision).toMatchObject({ kind: "create", parameters: { topicResourceGroup: "rg-amlguard-events-prod", createResourceGroup: true } });
  });

  it("dead-letters with a topic's user-assigned identity when it has no system-assigned one", () => {
    const decision = decide(deployment, BARE, fixture("system-topic-list.user-assigned.json"));
    expect(decision).toMatchObject({
      kind: "reuse",
      parameters: {
        deadLetterIdentity: { type: "UserAssigned", userAssignedIdentity: `/subscriptions/${BARE}/resourceGroups/platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-eventgrid` },
        deadLetterPrincipalId: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
      },
    });
  });

  it("re-reads a topic whose new identity has no principal id yet, a bounded number of times, then says what to do", async () => {
    const noPrincipal = { ...fixture<SystemTopic>("system-topic-update.identity.json"), identity: { type: "SystemAssigned", principalId: null } };
    const azure = fakeAzure({ [BARE]: fixture("system-topic-list.no-identity.json") }, noPrincipal);
    await expect(postdeploy(deployment, [BARE], { az: azure.az, ...quiet, identityReads: 3 })).rejects.toThrow(/still reports no principal id.*re-run azd up/);
    expect(azure.calls.filter((c) => c.args.includes("show"))).toHaveLength(3);
    expect(azure.writes().some((c) => c.parameters)).toBe(false); // nothing deployed on a half-known topic
  });

  it("refuses two topics claiming one subscription instead of guessing", () => {
    expect(() => decide(deployment, DEFENDED, fixture("system-topic-list.duplicate.json"))).toThrow(PlanError);
  });
});

describe("postdeploy: azd's environment", () => {
  const env = {
    AZURE_ENV_NAME: "prod",
    AZURE_LOCATION: "westeurope",
    AZURE_SUBSCRIPTION_ID: OWN,
    AZURE_RESOURCE_GROUP: "rg-amlguard-prod",
    AMLGUARD_FUNCTION_APP_ID: deployment.functionAppId,
    AMLGUARD_STORAGE_ACCOUNT_ID: deployment.storageAccountId,
    AMLGUARD_WATCHED_SUBSCRIPTION_IDS: `${OWN}, ${DEFENDED},${BARE}`,
  };

  it("reads main.bicep's outputs", () => {
    expect(deploymentFromEnv(env)).toEqual({ deployment, watched: [OWN, DEFENDED, BARE] });
  });

  it("names a missing or bad setting, changing nothing", () => {
    expect(() => deploymentFromEnv({ ...env, AMLGUARD_FUNCTION_APP_ID: "" })).toThrow(/AMLGUARD_FUNCTION_APP_ID is not set: run this through azd/);
    expect(() => deploymentFromEnv({ ...env, AMLGUARD_WATCHED_SUBSCRIPTION_IDS: "not-a-guid" })).toThrow(/'not-a-guid' is not a subscription id/);
    expect(() => deploymentFromEnv({ ...env, AMLGUARD_MAX_DELIVERY_ATTEMPTS: "31" })).toThrow(/from 1 to 30/);
  });
});
