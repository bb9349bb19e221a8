import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import { FILTERED_OPERATIONS } from "../src/events/triage.js";
import { REQUIRED_ARM_ACTIONS } from "../src/permissions.js";
import { ACTIONS } from "../src/remediation/index.js";

// No Bicep compiler runs here: these tests read infra/ as text and hold its invariants. Where the compiler exists,
// `az bicep build --file infra/main.bicep` is the first CI step.
const infra = (...parts: string[]): string => readFileSync(join(import.meta.dirname, "..", "infra", ...parts), "utf8");
const main = infra("main.bicep");
const app = infra("modules", "app.bicep");
const eventgrid = infra("eventgrid.bicep");
const all = [main, app, eventgrid, infra("modules", "log-analytics-reader.bicep")].join("\n");

describe("least privilege", () => {
  const role = JSON.parse(infra("amlguard-role.json")) as { actions: string[] };

  it("the custom role grants exactly the ARM actions the code declares", () => {
    expect([...role.actions].sort()).toEqual([...REQUIRED_ARM_ACTIONS]);
    for (const action of ACTIONS) for (const permission of action.permissions) expect(role.actions).toContain(permission);
    expect(main).toMatch(/var role = loadJsonContent\('amlguard-role\.json'\)/);
    expect(main).toMatch(/actions: role\.actions/);
  });

  it("has no wildcard actions and no Owner or Contributor anywhere", () => {
    expect(role.actions.some((a) => a.includes("*"))).toBe(false);
    expect(all).not.toMatch(/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/i); // Owner
    expect(all).not.toMatch(/b24988ac-6180-42a0-ab88-20f7382dd24c/i); // Contributor
    expect(all).not.toMatch(/acdd72a7-3385-48ef-bd42-f606fba81ae7/i); // Reader: Resource Graph is in the custom role
  });

  it("the custom role is assignable to this subscription only and assigned to the user-assigned identity", () => {
    expect(main).toMatch(/assignableScopes: \[subscription\(\)\.id\]/);
    expect(main).toMatch(/principalId: app\.outputs\.identityPrincipalId[\s\S]*principalType: 'ServicePrincipal'/);
  });

  it("Log Analytics Reader only on the configured workspace", () => {
    expect(app).toMatch(/logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'/);
    expect(infra("modules", "log-analytics-reader.bicep")).toMatch(/scope: workspace/);
  });
});

describe("Event Grid", () => {
  const filter = JSON.parse(infra("event-filter.json")) as { includedEventTypes: string[]; operationNames: string[] };

  it("filters on exactly the operation names the handler handles", () => {
    expect([...filter.operationNames].sort()).toEqual([...FILTERED_OPERATIONS].sort());
    expect(filter.includedEventTypes.sort()).toEqual(["Microsoft.Resources.ResourceActionSuccess", "Microsoft.Resources.ResourceWriteSuccess"]);
    // Event Grid allows 25 filter values per event subscription.
    expect(filter.operationNames.length).toBeLessThanOrEqual(25);
  });

  it("a subscription system topic (global) with StringIn on data.operationName, a retry policy and a dead-letter container", () => {
    expect(eventgrid).toMatch(/topicType: 'Microsoft\.Resources\.Subscriptions'/);
    expect(eventgrid).toMatch(/location: 'global'/);
    expect(eventgrid).toMatch(/operatorType: 'StringIn'\s+key: 'data\.operationName'\s+values: filter\.operationNames/);
    expect(eventgrid).toMatch(/retryPolicy: \{\s+maxDeliveryAttempts: maxDeliveryAttempts/);
    expect(eventgrid).toMatch(/blobContainerName: 'eventgrid-deadletter'/);
    expect(app).toMatch(/name: 'eventgrid-deadletter'/);
    expect(eventgrid).toMatch(/resourceId: '\$\{functionApp\.id\}\/functions\/resourceEvents'/);
    expect(infra("..", "functions", "resource-events.ts")).toMatch(/app\.eventGrid\("resourceEvents"/);
  });

  it("is created after the code is deployed (azd postdeploy hook)", () => {
    const yaml = infra("..", "azure.yaml");
    expect(yaml).toMatch(/postdeploy:\s+shell: sh\s+run: \.\/infra\/hooks\/postdeploy\.sh/);
    expect(infra("hooks", "postdeploy.sh")).toMatch(/--template-file "\$\(dirname "\$0"\)\/\.\.\/eventgrid\.bicep"/);
    expect(main).not.toMatch(/eventgrid\.bicep/);
  });
});

describe("resources and settings", () => {
  it("uses current API versions for each resource type", () => {
    const versions = [...all.matchAll(/'(Microsoft\.[\w.]+\/[\w/]+)@([\d-]+(?:-preview)?)'/g)].map((m) => `${m[1]}@${m[2]}`);
    expect(new Set(versions)).toEqual(
      new Set([
        "Microsoft.Resources/resourceGroups@2024-03-01",
        "Microsoft.Authorization/roleDefinitions@2022-04-01",
        "Microsoft.Authorization/roleAssignments@2022-04-01",
        "Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31",
        "Microsoft.Storage/storageAccounts@2023-05-01",
        "Microsoft.OperationalInsights/workspaces@2023-09-01",
        "Microsoft.Insights/components@2020-02-02",
        "Microsoft.KeyVault/vaults@2023-07-01",
        "Microsoft.Communication/emailServices@2025-09-01",
        "Microsoft.Communication/communicationServices@2025-09-01",
        "Microsoft.Web/serverfarms@2024-04-01",
        "Microsoft.Web/sites@2024-04-01",
        "Microsoft.EventGrid/systemTopics@2025-02-15",
        "Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15",
      ]),
    );
  });

  it("Flex Consumption, Node 20, user-assigned identity", () => {
    expect(app).toMatch(/sku: \{ tier: 'FlexConsumption', name: 'FC1' \}/);
    expect(app).toMatch(/runtime: \{ name: 'node', version: '20' \}/);
    expect(app).toMatch(/type: 'UserAssigned'/);
  });

  it("identity-based storage with shared keys off; Application Insights with Entra authentication", () => {
    expect(app).toMatch(/allowSharedKeyAccess: false/);
    expect(app).toMatch(/AzureWebJobsStorage__accountName: storage\.name/);
    expect(app).toMatch(/AzureWebJobsStorage__credential: 'managedidentity'/);
    expect(all).not.toMatch(/AccountKey|listKeys\(/);
    expect(app).toMatch(/DisableLocalAuth: true/);
    expect(app).toMatch(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=\$\{identity\.properties\.clientId\};Authorization=AAD'/);
  });

  it("the Teams webhook is a Key Vault secret, referenced from the app settings, read with the identity", () => {
    expect(app).toMatch(/AMLGUARD_TEAMS_WEBHOOK_URL: '@Microsoft\.KeyVault\(VaultName=\$\{vault\.name\};SecretName=teams-webhook-url\)'/);
    expect(app).toMatch(/keyVaultReferenceIdentity: identity\.id/);
    expect(app).toMatch(/enableRbacAuthorization: true/);
    expect(main).toMatch(/@secure\(\)\s+@description\('[^']*'\)\s+param teamsWebhookUrl string/);
  });

  it("App Service authentication guards the HTTP API, leaving the Event Grid webhook to the host's system key", () => {
    expect(app).toMatch(/requireAuthentication: true\s+unauthenticatedClientAction: 'Return401'/);
    expect(app).toMatch(/excludedPaths: \['\/runtime\/webhooks\/eventgrid'\]/);
  });

  it("deploys alert-only by default; remediation per rule is a parameter", () => {
    expect(main).toMatch(/param defaultMode string = 'alert'/);
    expect(main).toMatch(/param ruleModes string = ''/);
  });

  it("every amlguard setting the infra writes is one the code reads (no typos)", () => {
    const known = new Set(Object.keys(configSchema.shape));
    const written = [...app.matchAll(/^\s+(AMLGUARD_\w+):/gm)].map((m) => m[1]!);
    const schedules = new Set(["AMLGUARD_OUTBOX_SCHEDULE", "AMLGUARD_SWEEP_SCHEDULE", "AMLGUARD_SPIKES_SCHEDULE"]); // read by the host (%NAME%)
    expect(written.filter((name) => !known.has(name) && !schedules.has(name))).toEqual([]);
    for (const schedule of schedules) {
      expect(written).toContain(schedule);
      expect(["alert-outbox.ts", "sweep.ts", "spikes.ts"].some((f) => infra("..", "functions", f).includes(`%${schedule}%`)), schedule).toBe(true);
    }
  });
});
