import { isJsonObject, type JsonObject } from "../src/arm/resource.js";
import type { ArmClient } from "../src/azure/arm-client.js";
import type { ArmSandbox } from "../src/sandbox/arm-server.js";
import { percentile, round } from "./measure.js";

const OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier";

/**
 * The exposure window of a risky write, one write at a time: a user opens a private workspace to the internet
 * through ARM (PATCH publicNetworkAccess Enabled, a long-running operation); the moment ARM completes it, it publishes
 * the event, which goes straight to the handler; the window closes when the handler returns, after its PATCH and the
 * read-back that confirms the fix. Measured from the write taking effect (the event) and from the user's request.
 * Event Grid's own delivery delay is not simulated and comes on top.
 */
export async function exposureWindow(
  sandbox: ArmSandbox,
  userArm: ArmClient,
  userObjectId: string,
  ids: readonly string[],
  deliver: (event: JsonObject) => Promise<unknown>,
): Promise<{ writes: number; p50Ms: number; p99Ms: number; fromRequestP50Ms: number; fromRequestP99Ms: number }> {
  let awaited: { id: string; resolve: (published: { event: JsonObject; atMs: number }) => void } | undefined;
  sandbox.onEvent((event) => {
    const data = isJsonObject(event.data) ? event.data : {};
    const claims = isJsonObject(data.claims) ? data.claims : {};
    if (!awaited || String(data.resourceUri).toLowerCase() !== awaited.id.toLowerCase() || claims[OBJECT_ID_CLAIM] !== userObjectId) return;
    awaited.resolve({ event, atMs: performance.now() });
    awaited = undefined;
  });
  const fromEffect: number[] = [];
  const fromRequest: number[] = [];
  for (const id of ids) {
    const published = new Promise<{ event: JsonObject; atMs: number }>((resolve) => (awaited = { id, resolve }));
    const requested = performance.now();
    const write = userArm.patch(id, { properties: { publicNetworkAccess: "Enabled" } });
    const { event, atMs } = await published;
    await deliver(event);
    const fixed = performance.now();
    await write;
    const after = sandbox.resource(id)?.properties;
    if (!isJsonObject(after) || after.publicNetworkAccess !== "Disabled") throw new Error(`exposure: ${id} was not fixed; the window would be meaningless`);
    fromEffect.push(fixed - atMs);
    fromRequest.push(fixed - requested);
  }
  fromEffect.sort((a, b) => a - b);
  fromRequest.sort((a, b) => a - b);
  return {
    writes: ids.length,
    p50Ms: round(percentile(fromEffect, 50), 1),
    p99Ms: round(percentile(fromEffect, 99), 1),
    fromRequestP50Ms: round(percentile(fromRequest, 50), 1),
    fromRequestP99Ms: round(percentile(fromRequest, 99), 1),
  };
}
