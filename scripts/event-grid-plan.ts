/**
 * What postdeploy does in one watched subscription, decided from what `az` reports (pure: tested against recorded
 * outputs in test/fixtures/az/). Azure allows one system topic per subscription source, and Defender for Cloud and
 * other tools often created it already, in any resource group: amlguard reuses it wherever it lives and creates one
 * only when there is none. Dead-lettering uses the topic's identity, so the topic needs one: its system-assigned
 * identity, else its first user-assigned identity, else (no identity at all) postdeploy enables a system-assigned one.
 */

/** One element of `az eventgrid system-topic list -o json` (the SDK model: ARM properties flattened, resourceGroup added). */
export interface SystemTopic {
  id: string;
  name: string;
  resourceGroup?: string;
  source?: string;
  topicType?: string;
  identity?: {
    type?: string;
    principalId?: string | null;
    userAssignedIdentities?: Record<string, { principalId?: string | null; clientId?: string | null }> | null;
  } | null;
}

/** What azd's environment (main.bicep's outputs) says about amlguard's deployment. */
export interface AmlguardDeployment {
  environmentName: string;
  location: string;
  /** amlguard's own subscription and resource group: a new topic for that subscription goes there. */
  subscriptionId: string;
  resourceGroup: string;
  functionAppId: string;
  storageAccountId: string;
  maxDeliveryAttempts: number;
}

/** infra/eventgrid.bicep's parameters for one subscription. */
export interface EventGridParameters {
  location: string;
  topicResourceGroup: string;
  topicName: string;
  createTopic: boolean;
  createResourceGroup: boolean;
  deadLetterIdentity: { type: "SystemAssigned" } | { type: "UserAssigned"; userAssignedIdentity: string };
  deadLetterPrincipalId: string;
  functionAppId: string;
  storageAccountId: string;
  maxDeliveryAttempts: number;
  tags: Record<string, string>;
}

export type TopicDecision =
  | { kind: "create"; parameters: EventGridParameters }
  | { kind: "reuse"; topicId: string; parameters: EventGridParameters }
  | { kind: "enable-identity"; topicId: string; resourceGroup: string; topicName: string };

export const NEW_TOPIC_NAME = "amlguard-arm-events";
const SUBSCRIPTIONS_TOPIC_TYPE = "microsoft.resources.subscriptions";

export class PlanError extends Error {
  override name = "PlanError";
}

/** The subscription's own system topic (source = the subscription) among everything `list` returned. */
export function findSubscriptionTopic(topics: readonly SystemTopic[], subscriptionId: string): SystemTopic | undefined {
  const source = `/subscriptions/${subscriptionId}`.toLowerCase();
  // The CLI and ARM do not keep one casing for topicType and source (the published examples are lower case).
  const matches = topics.filter((t) => t.topicType?.toLowerCase() === SUBSCRIPTIONS_TOPIC_TYPE && t.source?.toLowerCase() === source);
  if (matches.length > 1) {
    throw new PlanError(`subscription ${subscriptionId} reports ${matches.length} system topics for itself (${matches.map((t) => t.id).join(", ")}); Azure allows one: resolve that first`);
  }
  return matches[0];
}

/** The identity a topic dead-letters with, or undefined when it has none usable yet. */
export function deadLetterIdentityOf(topic: SystemTopic): Pick<EventGridParameters, "deadLetterIdentity" | "deadLetterPrincipalId"> | undefined {
  const identity = topic.identity;
  if (!identity) return undefined;
  if (identity.type?.toLowerCase().includes("systemassigned") && identity.principalId) {
    return { deadLetterIdentity: { type: "SystemAssigned" }, deadLetterPrincipalId: identity.principalId };
  }
  const userAssigned = Object.entries(identity.userAssignedIdentities ?? {}).find(([, value]) => value?.principalId);
  if (userAssigned) return { deadLetterIdentity: { type: "UserAssigned", userAssignedIdentity: userAssigned[0] }, deadLetterPrincipalId: userAssigned[1].principalId! };
  return undefined;
}

/** Decides, for one watched subscription, from `az eventgrid system-topic list` there. */
export function decide(deployment: AmlguardDeployment, subscriptionId: string, topics: readonly SystemTopic[]): TopicDecision {
  const shared = {
    location: deployment.location,
    functionAppId: deployment.functionAppId,
    storageAccountId: deployment.storageAccountId,
    maxDeliveryAttempts: deployment.maxDeliveryAttempts,
    tags: { "azd-env-name": deployment.environmentName },
  };
  const topic = findSubscriptionTopic(topics, subscriptionId);
  if (!topic) {
    const own = subscriptionId.toLowerCase() === deployment.subscriptionId.toLowerCase();
    return {
      kind: "create",
      parameters: {
        ...shared,
        // A topic lives in a resource group of the subscription it watches: amlguard's own, or one made for it.
        topicResourceGroup: own ? deployment.resourceGroup : `rg-amlguard-events-${deployment.environmentName}`,
        topicName: NEW_TOPIC_NAME,
        createTopic: true,
        createResourceGroup: !own,
        deadLetterIdentity: { type: "SystemAssigned" },
        deadLetterPrincipalId: "",
      },
    };
  }
  const resourceGroup = topic.resourceGroup ?? resourceGroupOf(topic.id);
  const identity = deadLetterIdentityOf(topic);
  if (!identity) return { kind: "enable-identity", topicId: topic.id, resourceGroup, topicName: topic.name };
  return {
    kind: "reuse",
    topicId: topic.id,
    parameters: { ...shared, topicResourceGroup: resourceGroup, topicName: topic.name, createTopic: false, createResourceGroup: false, ...identity },
  };
}

/** The ARM deployment parameters file `az deployment sub create --parameters @file` reads. */
export function parametersFile(parameters: EventGridParameters): string {
  const values = Object.fromEntries(Object.entries(parameters).map(([name, value]) => [name, { value }]));
  return `${JSON.stringify({ $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", contentVersion: "1.0.0.0", parameters: values }, null, 2)}\n`;
}

function resourceGroupOf(id: string): string {
  const match = /\/resourceGroups\/([^/]+)\//i.exec(id);
  if (!match?.[1]) throw new PlanError(`system topic id '${id}' names no resource group`);
  return match[1];
}
