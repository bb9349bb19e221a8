import type { AlertSink } from "../alerts/alert.js";
import type { JsonObject } from "../arm/resource.js";
import { ArmClient } from "../azure/arm-client.js";
import { approveExemption } from "../exemptions/approve.js";
import type { Runtime } from "../runtime.js";
import type { RunningSandbox } from "../sandbox/index.js";
import { DEMO_APPROVER, DEMO_USER } from "./settings.js";

/** One thing a person did in the demo, and the resource it touched. */
export interface UserAction {
  who: string;
  what: string;
  resourceId: string;
  /** Whether it was an ARM write (which publishes an event); an approval is amlguard's own record, not a write. */
  writes: boolean;
}

/**
 * alice's risky changes through ARM (each a write ARM publishes an event for), and bob's approval of the exemption
 * alice's tag asks for (the tag alone exempts nothing).
 */
export async function playUserChanges(
  sandbox: RunningSandbox,
  deps: { state: Pick<Runtime, "exemptions" | "audit">; alerts: AlertSink; botArm: ArmClient },
): Promise<UserAction[]> {
  const arm = sandbox.arm;
  const userArm = new ArmClient({ endpoint: arm.endpoint, credential: arm.credential(DEMO_USER), ca: arm.ca });
  const ids = demoIds(sandbox);
  const actions: UserAction[] = [];
  const act = async (resourceId: string, what: string, fn: () => Promise<unknown>): Promise<void> => {
    await fn();
    actions.push({ who: DEMO_USER.name, what, resourceId, writes: true });
  };
  await act(ids.prodWorkspace, "opened workspace mlw-fraud-prod to the public internet (PATCH publicNetworkAccess Enabled)", () =>
    userArm.patch(ids.prodWorkspace, { properties: { publicNetworkAccess: "Enabled" } }),
  );
  await act(ids.prodEndpoint, "made online endpoint fraud-score public (PUT publicNetworkAccess Enabled)", async () => {
    const read = await userArm.get(ids.prodEndpoint);
    const body = structuredClone(read.resource);
    (body.properties as JsonObject).publicNetworkAccess = "Enabled";
    await userArm.put(ids.prodEndpoint, body, read.etag ? { ifMatch: read.etag } : {});
  });
  await act(ids.devInstance, "started compute instance ci-bob, which has public SSH and a public IP (POST start)", () => userArm.action(`${ids.devInstance}/start`));
  await act(ids.devCluster, "scaled gpu-cluster, whose nodes get public IPs, to 4 minimum nodes (PATCH scaleSettings)", () =>
    userArm.patch(ids.devCluster, { properties: { properties: { scaleSettings: { maxNodeCount: 8, minNodeCount: 4, nodeIdleTimeBeforeScaleDown: "PT30M" } } } }),
  );
  const nextMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const reason = "partner onboarding CHG-4711";
  await act(ids.registry, `tagged registry reg-shared-models amlguard-exempt until ${nextMonth} (${reason}): a request, which exempts nothing by itself`, () =>
    userArm.patch(ids.registry, { tags: { "amlguard-exempt": `rules=registry-public-network-access; reason=${reason}; expires=${nextMonth}` } }),
  );
  await approveExemption(
    { resourceId: ids.registry, rules: ["registry-public-network-access"], reason, expires: nextMonth },
    DEMO_APPROVER,
    `cli:${DEMO_APPROVER.name}`,
    { store: deps.state.exemptions, arm: deps.botArm, audit: deps.state.audit, alerts: deps.alerts, now: () => new Date(), allowedSubscriptions: sandbox.subscriptionIds, maxDays: 90 },
  );
  actions.push({ who: `${DEMO_APPROVER.name} (AmlGuard.Exempt)`, what: `approved the exemption for reg-shared-models until ${nextMonth}`, resourceId: ids.registry, writes: false });
  return actions;
}

function demoIds(sandbox: RunningSandbox): Record<"prodWorkspace" | "prodEndpoint" | "devInstance" | "devCluster" | "registry", string> {
  const find = (suffix: string): string => {
    const resource = sandbox.scenario.resources.find((r) => r.id.toLowerCase().endsWith(suffix.toLowerCase()));
    if (!resource) throw new Error(`demo scenario has no resource ending in ${suffix}`);
    return resource.id;
  };
  return {
    prodWorkspace: find("/workspaces/mlw-fraud-prod"),
    prodEndpoint: find("/onlineEndpoints/fraud-score"),
    devInstance: find("/computes/ci-bob"),
    devCluster: find("/computes/gpu-cluster"),
    registry: find("/registries/reg-shared-models"),
  };
}
