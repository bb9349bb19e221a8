import { EventGridDeserializer, isSystemEvent, type CloudEvent, type EventGridEvent } from "@azure/eventgrid";
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
 * Parses one delivered event (Event Grid schema or CloudEvents 1.0) with the Event Grid SDK's deserializer, then
 * checks the fields amlguard relies on. Anything malformed is an EventError with a message safe to log.
 */
export async function parseEvent(input: unknown): Promise<ResourceEvent> {
  if (!isJsonObject(input)) throw new EventError("event is not a JSON object");
  if (JSON.stringify(input).length > MAX_EVENT_BYTES) throw new EventError("event is larger than 1 MB");
  let cloudEvent: CloudEvent<unknown> | undefined;
  let gridEvent: EventGridEvent<unknown> | undefined;
  try {
    if ("specversion" in input) [cloudEvent] = await deserializer.deserializeCloudEvents(input);
    else [gridEvent] = await deserializer.deserializeEventGridEvents(input);
  } catch (error) {
    // The SDK's messages name the missing or mistyped property; keep only the first line.
    throw new EventError(`not a valid Event Grid or CloudEvents 1.0 event: ${(error as Error).message.split("\n")[0]}`);
  }
  const common = cloudEvent
    ? { id: cloudEvent.id, eventType: cloudEvent.type, subject: cloudEvent.subject ?? "", time: cloudEvent.time, data: cloudEvent.data }
    : gridEvent
      ? { id: gridEvent.id, eventType: gridEvent.eventType, subject: gridEvent.subject, time: gridEvent.eventTime, data: gridEvent.data }
      : undefined;
  if (!common) throw new EventError("no event in the delivery");
  const { id, eventType, subject, time, data } = common;
  const handled = HANDLED_TYPES.some((type) => (cloudEvent ? isSystemEvent(type, cloudEvent) : isSystemEvent(type, gridEvent!)));
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
