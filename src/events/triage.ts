import { parseMlResourceId, ResourceIdError, type MlResourceId } from "../arm/ids.js";
import { ML_RESOURCE_TYPES, type MlResourceKind } from "../arm/resource.js";
import type { Actor } from "../state/audit.js";
import type { ResourceEvent } from "./parse.js";

/**
 * The ARM operations amlguard reacts to, with the resource kind each one writes. The Event Grid subscription's
 * advanced filter (infra/) lists exactly these; a test keeps the two in step.
 */
export const HANDLED_OPERATIONS: ReadonlyMap<string, MlResourceKind> = new Map([
  [`${ML_RESOURCE_TYPES.workspace}/write`, "workspace"],
  [`${ML_RESOURCE_TYPES.compute}/write`, "compute"],
  // A started compute instance is back in service: re-check it (ResourceActionSuccess).
  [`${ML_RESOURCE_TYPES.compute}/start/action`, "compute"],
  [`${ML_RESOURCE_TYPES.onlineEndpoint}/write`, "onlineEndpoint"],
  [`${ML_RESOURCE_TYPES.onlineDeployment}/write`, "onlineDeployment"],
  [`${ML_RESOURCE_TYPES.registry}/write`, "registry"],
]);

/**
 * Tags written through the Tags API (PUT/PATCH {scope}/providers/Microsoft.Resources/tags/default) change a resource
 * without a write of the resource itself: the amlguard-exempt request can arrive this way. The event's resourceUri is
 * the tags path; the resource is its scope.
 */
export const TAGS_WRITE = "Microsoft.Resources/tags/write";
const TAGS_SUFFIX = /\/providers\/Microsoft\.Resources\/tags\/default$/i;

/** Every operation the Event Grid subscription must deliver. */
export const FILTERED_OPERATIONS: readonly string[] = [...HANDLED_OPERATIONS.keys(), TAGS_WRITE];

const byLowerName = new Map([...HANDLED_OPERATIONS].map(([name, kind]) => [name.toLowerCase(), kind]));

export type Triage =
  /** Not for amlguard (another provider's write, a failed operation): nothing to record. */
  | { verdict: "ignore"; reason: string }
  /** Claims to be an operation amlguard handles but does not hold together (forged or malformed): recorded. */
  | { verdict: "reject"; reason: string }
  | { verdict: "evaluate"; target: MlResourceId; actor: Actor };

/** Decides, without any network call, whether an event concerns a resource amlguard evaluates, and which one. */
export function triage(event: ResourceEvent): Triage {
  if (!event.handled) return { verdict: "ignore", reason: `event type ${event.eventType} is not handled` };
  if (event.data.status.toLowerCase() !== "succeeded") return { verdict: "ignore", reason: `operation status is ${event.data.status}` };
  const tagsWrite = event.data.operationName.toLowerCase() === TAGS_WRITE.toLowerCase();
  const kind = byLowerName.get(event.data.operationName.toLowerCase());
  if (!kind && !tagsWrite) return { verdict: "ignore", reason: `operation ${event.data.operationName} is not one amlguard evaluates` };
  if (tagsWrite && !TAGS_SUFFIX.test(event.data.resourceUri)) return { verdict: "reject", reason: "a tags write whose resourceUri is not a tags resource" };
  let target: MlResourceId;
  try {
    target = parseMlResourceId(tagsWrite ? event.data.resourceUri.replace(TAGS_SUFFIX, "") : event.data.resourceUri);
  } catch (error) {
    if (error instanceof ResourceIdError) {
      // A tags write on anything but an ML resource is simply not ours; an ML operation naming a bad id is suspicious.
      return tagsWrite ? { verdict: "ignore", reason: "tags written on a resource amlguard does not evaluate" } : { verdict: "reject", reason: `resourceUri is not a supported resource id: ${error.message}` };
    }
    throw error;
  }
  // A forged or inconsistent event (say, a workspace write naming a compute) is not acted on.
  if (kind && target.kind !== kind) return { verdict: "reject", reason: `resourceUri is a ${target.kind}, operation writes a ${kind}` };
  return { verdict: "evaluate", target, actor: actorOf(event) };
}

const OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";

/** Who made the write: claims first (object id, app id, name), authorization evidence as a fallback. */
export function actorOf(event: ResourceEvent): Actor {
  const { claims, evidence } = event.data;
  const objectId = claims[OBJECT_ID] ?? claims.oid ?? evidence.principalId;
  const appId = claims.appid ?? claims.azp;
  const name = claims.name ?? claims[UPN] ?? claims.upn;
  return {
    ...(objectId ? { objectId } : {}),
    ...(appId ? { appId } : {}),
    ...(name ? { name } : {}),
    ...(evidence.principalType ? { principalType: evidence.principalType } : {}),
  };
}

export interface SelfIdentity {
  objectId?: string;
  clientId?: string;
}

/** Loop guard: was this write made by amlguard's own identity? Ids compare without dashes or case. */
/**
 * Whether the event's caller is amlguard's own identity. This alone never makes a write "own": whoever can run code
 * as that identity would get a blind spot. The pipeline recognises own writes by the correlation id each one carries.
 */
export function madeBySelfIdentity(event: ResourceEvent, self: SelfIdentity): boolean {
  const norm = (id: string | undefined): string | undefined => id?.replace(/-/g, "").toLowerCase() || undefined;
  const mine = new Set([norm(self.objectId), norm(self.clientId)].filter((id): id is string => id !== undefined));
  if (mine.size === 0) return false;
  const { claims, evidence } = event.data;
  return [claims[OBJECT_ID], claims.oid, claims.appid, claims.azp, evidence.principalId].some((id) => {
    const n = norm(id);
    return n !== undefined && mine.has(n);
  });
}
