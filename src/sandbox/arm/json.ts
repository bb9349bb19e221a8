import type { IncomingMessage, ServerResponse } from "node:http";
import { isJsonObject, readPath, type JsonObject, type JsonValue } from "../../arm/resource.js";
import { armErrors } from "../arm-errors.js";

const MAX_BODY_BYTES = 4 * 1024 * 1024; // ARM rejects request bodies over 4 MB.

/** What a handler answers; the server adds the request id and the throttling headers. */
export interface Reply {
  status: number;
  body: JsonValue | undefined;
  headers: Record<string, string>;
}

export function setPath(target: JsonObject, path: string, value: JsonValue): void {
  const keys = path.split(".");
  let current = target;
  for (const key of keys.slice(0, -1)) {
    const next = current[key];
    if (!isJsonObject(next)) current[key] = {};
    current = current[key] as JsonObject;
  }
  current[keys[keys.length - 1]!] = value;
}

export function deletePath(target: JsonObject, path: string): void {
  const keys = path.split(".");
  const parent = readPath(target, keys.slice(0, -1).join("."));
  if (keys.length === 1) delete target[keys[0]!];
  else if (isJsonObject(parent)) delete parent[keys[keys.length - 1]!];
}

/** JSON merge patch (RFC 7396), the semantics of ARM PATCH: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = isJsonObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** The request body as JSON (undefined when empty); over 4 MB is 413, unparsable is ARM's InvalidRequestContent. */
export async function readJsonBody(req: IncomingMessage): Promise<JsonValue | undefined> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) throw armErrors.tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw armErrors.tooLarge();
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonValue;
  } catch {
    throw armErrors.invalidJson();
  }
}

export function sendJson(res: ServerResponse, status: number, body: JsonValue | undefined, headers: Record<string, string>): void {
  const payload = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(payload ? { "Content-Type": "application/json; charset=utf-8" } : {}),
    "Content-Length": Buffer.byteLength(payload),
  });
  res.end(payload);
}
