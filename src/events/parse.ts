import { EventGridDeserializer, isSystemEvent, type EventGridEvent } from "@azure/eventgrid";
import { isJsonObject, type JsonObject } from "../arm/resource.js";

/** The parts of a subscription system-topic event amlguard uses, from either schema. */
export interface ResourceEvent {
  id: string;
  eventType: string;
  /** ResourceWriteSuccess or ResourceActionSuccess, as the Event Grid SDK's isSystemEvent recognises them. */
  handled: boolean;
  subject: string;
  time: string;
  data: {
    operationName: string;
    resourceUri: string;
    status: string;
    correlationId?: string;
    claims: Record<string, string>;
    evidence: Record<string, string>;
  };
}

export class EventError extends Error {
  override name = "EventError";
}

const HANDLED_TYPES = ["Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Resources.ResourceActionSuccess"] as const;
const MAX_EVENT_BYTES = 1024 * 1024; // Event Grid's own limit for one event.
const deserializer = new EventGridDeserializer();

/**
 * Parses one delivered event (Event Grid schema or CloudEvents 1.0), then checks the fields amlguard relies on.
 * Anything malformed is an EventError with a message safe to log.
 */
export async function parseEvent(input: unknown): Promise<ResourceEvent> {
  if (!isJsonObject(input)) throw new EventError("event is not a JSON object");
  if (jsonLengthExceeds(input, MAX_EVENT_BYTES)) throw new EventError("event is larger than 1 MB");
  let common: { id: string; eventType: string; subject: string; time: Date | undefined; data: unknown };
  try {
    if ("specversion" in input) {
      const [cloudEvent] = await deserializer.deserializeCloudEvents(input);
      if (!cloudEvent) throw new EventError("no event in the delivery");
      common = { id: cloudEvent.id, eventType: cloudEvent.type, subject: cloudEvent.subject ?? "", time: cloudEvent.time, data: cloudEvent.data };
    } else {
      common = gridEvent(input);
    }
  } catch (error) {
    if (error instanceof EventError) throw error;
    // The SDK's messages name the missing or mistyped property; keep only the first line.
    throw new EventError(`not a valid Event Grid or CloudEvents 1.0 event: ${(error as Error).message.split("\n")[0]}`);
  }
  const { id, eventType, subject, time, data } = common;
  // isSystemEvent compares the type only (a `source` makes it read `type`, as for the SDK's own deserialized events).
  const handled = HANDLED_TYPES.some((type) => isSystemEvent(type, input as unknown as EventGridEvent<unknown>));
  if (!isJsonObject(data)) throw new EventError("event data is not an object");
  const operationName = requireString(data, "operationName");
  const resourceUri = requireString(data, "resourceUri");
  const status = requireString(data, "status");
  return {
    id,
    eventType,
    handled,
    subject,
    time: time && !Number.isNaN(time.getTime()) ? time.toISOString() : new Date().toISOString(),
    data: {
      operationName,
      resourceUri,
      status,
      ...(typeof data.correlationId === "string" ? { correlationId: data.correlationId } : {}),
      claims: stringMap(data.claims),
      evidence: isJsonObject(data.authorization) ? stringMap(data.authorization.evidence) : {},
    },
  };
}

const GRID_STRING_PROPERTIES = ["eventType", "eventTime", "id", "subject", "topic", "dataVersion", "metadataVersion"] as const;

/**
 * An event in the Event Grid schema, checked as `EventGridDeserializer.deserializeEventGridEvents` (@azure/eventgrid
 * 5.12.0, util.ts `validateEventGridEvent`) checks it, with its messages, and read as its model mapper reads it
 * (eventTime a Date; data an object of its own keys when truthy). The SDK's generic mapper deep-copied `data` through
 * a chain of regular expressions per property, most of an irrelevant event's CPU time; a test compares the two on
 * fuzzed events.
 */
function gridEvent(input: JsonObject): { id: string; eventType: string; subject: string; time: Date; data: unknown } {
  for (const name of GRID_STRING_PROPERTIES) {
    const value = input[name];
    if (value === undefined) throw new Error(`event is missing required property '${name}'`);
    if (typeof value !== "string") throw new TypeError(`event property '${name} should be a 'string', but is '${typeof value}'`);
  }
  if (input.data === undefined) throw new Error("event is missing required property 'data'");
  if (input.metadataVersion !== "1") throw new TypeError("event is not in the Event Grid schema");
  const raw = input.data;
  // The mapper's Dictionary: any other truthy value (an array, a string, a number) becomes an object of its own keys,
  // which never include operationName; falsy values stay as they are.
  const data = isJsonObject(raw) ? raw : raw ? {} : raw;
  return { id: input.id as string, eventType: input.eventType as string, subject: input.subject as string, time: new Date(input.eventTime as string), data };
}

/**
 * Whether JSON.stringify(value) is longer than `limit`, without serialising an ordinary event: the JSON of its
 * structure, numbers and literals is counted exactly and each string's characters once (a lower bound), and an escape
 * makes a character at most six. Only between the bounds (or for anything unusual) is the value serialised.
 */
export function jsonLengthExceeds(value: object, limit: number): boolean {
  const lower = jsonLengthLowerBound(value, 0);
  if (lower !== undefined && lower > limit) return true;
  if (lower !== undefined && lower * 6 <= limit) return false;
  return JSON.stringify(value).length > limit;
}

/** JSON length with string contents counted once per character; undefined where it would not be a bound. */
function jsonLengthLowerBound(value: unknown, depth: number): number | undefined {
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
      return Number.isFinite(value) ? String(value).length : 4;
    case "boolean":
      return value ? 4 : 5;
    case "object": {
      if (value === null) return 4;
      // Deep nesting (or a cycle), or anything but plain objects and arrays: let JSON.stringify decide.
      const array = Array.isArray(value);
      if (depth > 32 || (!array && Object.getPrototypeOf(value) !== Object.prototype) || typeof (value as { toJSON?: unknown }).toJSON === "function") return undefined;
      let length = 1; // the closing bracket; each member adds itself and the comma or opening bracket before it
      let members = 0;
      if (array) {
        for (const item of value) {
          const n = item === undefined || typeof item === "function" || typeof item === "symbol" ? 4 : jsonLengthLowerBound(item, depth + 1);
          if (n === undefined) return undefined;
          length += n + 1;
          members += 1;
        }
      } else {
        for (const key in value) {
          if (!Object.hasOwn(value, key)) continue;
          const item = (value as Record<string, unknown>)[key];
          if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
          const n = jsonLengthLowerBound(item, depth + 1);
          if (n === undefined) return undefined;
          length += key.length + 3 + n + 1;
          members += 1;
        }
      }
      return members ? length : 2;
    }
    default:
      return undefined;
  }
}

function requireString(data: JsonObject, name: string): string {
  const value = data[name];
  if (typeof value !== "string" || value.length === 0) throw new EventError(`event data.${name} is missing or not a string`);
  if (value.length > 2048) throw new EventError(`event data.${name} is too long`);
  return value;
}

function stringMap(value: unknown): Record<string, string> {
  if (!isJsonObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}
