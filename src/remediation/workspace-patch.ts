import { enumEquals, ML_RESOURCE_TYPES, readPath } from "../arm/resource.js";
import { privateNowReview } from "./guidance.js";
import { cliNames, confirmByReading, observedStateOf, pick, writeCondition, type ActionDefinition } from "./plan.js";

const PNA = "properties.publicNetworkAccess";

/** Workspaces: PATCH, whose body (WorkspaceUpdateParameters) carries exactly the one property changed. */
export const workspaceDisablePublicNetworkAccess: ActionDefinition = {
  id: "workspace-disable-public-network-access",
  kind: "workspace",
  intent: "disable-public-network-access",
  permissions: [`${ML_RESOURCE_TYPES.workspace}/write`],
  containsOnly: false,
  description: "PATCH the workspace: publicNetworkAccess Disabled",
  afterwards: (ctx) => privateNowReview("workspace", "publicNetworkAccess", ctx),
  plan(read) {
    const resource = read.resource;
    if (enumEquals(readPath(resource, PNA), "Disabled")) return { kind: "already-done", detail: "publicNetworkAccess is already Disabled" };
    return {
      kind: "plan",
      plan: {
        action: workspaceDisablePublicNetworkAccess,
        targetId: resource.id,
        before: pick(resource, PNA),
        intended: { [PNA]: "Disabled" },
        observedState: observedStateOf(read),
        undo: `az ml workspace update ${cliNames(resource.id)} --public-network-access Enabled`,
        // Nothing else is sent, so nothing else can change; and the write is conditional on the state that was read.
        execute: async (arm) => {
          const { ifMatch } = await writeCondition(arm, read);
          await arm.patch(resource.id, { properties: { publicNetworkAccess: "Disabled" } }, ifMatch ? { ifMatch } : {});
        },
        confirm: confirmByReading(resource.id, PNA, (after) => enumEquals(readPath(after, PNA), "Disabled")),
      },
    };
  },
};
