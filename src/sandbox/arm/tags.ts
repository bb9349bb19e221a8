import { isJsonObject, type JsonObject, type JsonValue } from "../../arm/resource.js";
import { ArmSandboxError, armErrors } from "../arm-errors.js";
import { stampModified, type ArmContext, type WriteRequest } from "./crud.js";
import { newEtag, parseIdOrRoute } from "./estate.js";
import type { Reply } from "./json.js";

/**
 * The Tags API on a resource: `{resourceId}/providers/Microsoft.Resources/tags/default` (azure-rest-api-specs
 * specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json: Tags_GetAtScope,
 * Tags_CreateOrUpdateAtScope with a TagsResource `{properties:{tags}}`, Tags_UpdateAtScope with a TagsPatchResource
 * `{operation: Replace|Merge|Delete, properties:{tags}}`, Tags_DeleteAtScope; examples PutTagsResource.json,
 * UpdateAtScopeTags.json). Writing tags this way needs only `Microsoft.Resources/tags/write`, and ARM publishes it
 * as a ResourceWriteSuccess event with that operation name on the tags resource's id.
 */
export const TAGS_PATH = /^(\/subscriptions\/.+)\/providers\/Microsoft\.Resources\/tags\/default$/i;

/**
 * Microsoft.Resources api-versions that have tags at scope and that the sandbox was checked against: 2019-10-01
 * (where Tags_*AtScope first appear), 2021-04-01 (the spec above), 2024-03-01 and 2025-04-01 (stable folders with
 * PutTagsResource.json).
 */
export const TAGS_API_VERSIONS = ["2019-10-01", "2021-04-01", "2024-03-01", "2025-04-01"];

const OPERATIONS = ["Replace", "Merge", "Delete"] as const;
type TagsOperation = (typeof OPERATIONS)[number];

/** ARM's limit on tags per resource ("Use tags to organize your Azure resources", limitations). */
const MAX_TAGS = 50;

export function tagsRequest(ctx: ArmContext, method: string, resourcePath: string, apiVersion: string, body: JsonValue | undefined, request: WriteRequest): Reply {
  if (!TAGS_API_VERSIONS.includes(apiVersion)) throw armErrors.unsupportedApiVersion(apiVersion, "tags", TAGS_API_VERSIONS);
  const id = parseIdOrRoute(resourcePath);
  ctx.estate.requireScope(id);
  const stored = ctx.estate.requireResource(id);
  const resource = stored.resource;
  const tagsUri = `${resource.id}/providers/Microsoft.Resources/tags/default`;
  const current = stringTags(resource.tags);
  let next: Record<string, string>;
  switch (method) {
    case "GET":
      return { status: 200, body: tagsResource(tagsUri, current), headers: {} };
    case "PUT":
      next = requireTags(isJsonObject(body) ? body.properties : undefined, true);
      break;
    case "PATCH": {
      if (!isJsonObject(body)) throw armErrors.invalidJson();
      const operation = body.operation ?? "Merge";
      if (typeof operation !== "string" || !(OPERATIONS as readonly string[]).includes(operation)) {
        throw new ArmSandboxError(400, "InvalidRequestContent", `The tags operation must be one of ${OPERATIONS.join(", ")}.`);
      }
      next = applyPatch(current, operation as TagsOperation, requireTags(body.properties, false));
      break;
    }
    case "DELETE":
      next = {};
      break;
    default:
      throw armErrors.methodNotAllowed(method);
  }
  if (Object.keys(next).length > MAX_TAGS) {
    throw new ArmSandboxError(400, "BadRequest", `A resource can have at most ${MAX_TAGS} tags; this request leaves ${Object.keys(next).length}.`);
  }
  resource.tags = next;
  stampModified(resource, request.caller.objectId);
  stored.etag = newEtag();
  ctx.estate.store.version += 1;
  // Removing every tag is its own RBAC action (Microsoft.Resources/tags/delete) and a delete event.
  const deleted = method === "DELETE";
  ctx.emit({
    eventType: deleted ? "Microsoft.Resources.ResourceDeleteSuccess" : "Microsoft.Resources.ResourceWriteSuccess",
    resourceUri: tagsUri,
    operationName: `Microsoft.Resources/tags/${deleted ? "delete" : "write"}`,
    request,
    method,
    resourceProvider: "Microsoft.Resources",
  });
  return { status: 200, body: method === "DELETE" ? undefined : tagsResource(tagsUri, next), headers: {} };
}

/**
 * Replace: the given set. Merge: new names added, existing names (any casing: tag names are case-insensitive for
 * operations) get the new value under their existing name. Delete: names given with an empty value, or with the
 * value the tag has, are removed ("selectively deleting tags based on given names or name/value pairs").
 */
function applyPatch(current: Record<string, string>, operation: TagsOperation, given: Record<string, string>): Record<string, string> {
  if (operation === "Replace") return { ...given };
  const next = { ...current };
  const existingName = (name: string): string | undefined => Object.keys(next).find((key) => key.toLowerCase() === name.toLowerCase());
  for (const [name, value] of Object.entries(given)) {
    const existing = existingName(name);
    if (operation === "Merge") next[existing ?? name] = value;
    else if (existing !== undefined && (value === "" || next[existing] === value)) delete next[existing];
  }
  return next;
}

function requireTags(properties: JsonValue | undefined, required: boolean): Record<string, string> {
  if (properties === undefined && !required) return {};
  const tags = isJsonObject(properties) ? properties.tags : undefined;
  if (tags === undefined && isJsonObject(properties) && !required) return {};
  if (!isJsonObject(tags) || Object.values(tags).some((value) => typeof value !== "string")) {
    throw new ArmSandboxError(400, "InvalidRequestContent", "The request content was invalid: properties.tags must be an object of string values.");
  }
  return stringTags(tags);
}

function stringTags(tags: JsonValue | undefined): Record<string, string> {
  if (!isJsonObject(tags)) return {};
  return Object.fromEntries(Object.entries(tags).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

function tagsResource(id: string, tags: Record<string, string>): JsonObject {
  return { id, name: "default", type: "Microsoft.Resources/tags", properties: { tags } };
}
