import { readFileSync } from "node:fs";
import { EventGridDeserializer } from "@azure/eventgrid";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventError, jsonLengthExceeds, parseEvent } from "../src/events/parse.js";
import { HANDLED_OPERATIONS, madeBySelfIdentity, triage } from "../src/events/triage.js";
import { fixturePath } from "./helpers/fixtures.js";

/** Azure's published sample events (test/fixtures/events/SOURCES.md); arrays hold one event each. */
function sample(name: string): any {
  const json = JSON.parse(readFileSync(fixturePath("events", name), "utf8"));
  return Array.isArray(json) ? json[0] : json;
}

const COMPUTE = "/subscriptions/00000000-1111-2222-3333-444444444444/resourcegroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/ci1";

/** Azure's sample with the resource swapped for an ML compute: everything else (claims, evidence) as published. */
function mlVariant(name: string, operationName: string): any {
  const event = structuredClone(sample(name));
  event.subject = COMPUTE;
  event.data.resourceUri = COMPUTE;
  event.data.operationName = operationName;
  event.data.resourceProvider = "Microsoft.MachineLearningServices";
  return event;
}

describe("parseEvent on Azure's published samples", () => {
  it.each([
    ["resource-write-success.eventgrid.json", "Microsoft.Resources.ResourceWriteSuccess"],
    ["resource-write-success.eventgrid.rg.json", "Microsoft.Resources.ResourceWriteSuccess"],
    ["resource-action-success.eventgrid.json", "Microsoft.Resources.ResourceActionSuccess"],
    ["resource-action-success.eventgrid.rg.json", "Microsoft.Resources.ResourceActionSuccess"],
    ["resource-write-success.cloudevent.json", "Microsoft.Resources.ResourceWriteSuccess"],
    ["resource-action-success.cloudevent.json", "Microsoft.Resources.ResourceActionSuccess"],
    ["resource-action-success.cloudevent.subscription.json", "Microsoft.Resources.ResourceActionSuccess"],
  ])("parses %s (both schemas) and recognises it as a handled system event", async (name, type) => {
    const event = await parseEvent(sample(name));
    expect(event).toMatchObject({ eventType: type, handled: true, data: { status: "Succeeded" } });
    expect(event.data.operationName).toMatch(/^Microsoft\.(Storage|EventHub)\//);
  });

  it("the samples themselves (Storage, Event Hubs) are not ML writes: triage ignores them", async () => {
    for (const name of ["resource-write-success.eventgrid.json", "resource-action-success.cloudevent.json"]) {
      const verdict = triage(await parseEvent(sample(name)));
      expect(verdict.verdict).toBe("ignore");
    }
  });

  it("rejects the docs' own malformed CloudEvent sample with a clear message", async () => {
    await expect(parseEvent(sample("resource-write-success.cloudevent.subscription-docs-malformed.json"))).rejects.toThrow(/missing required property 'source'/);
  });

  it.each([
    ["null", null, /not a JSON object/],
    ["an array", [1], /not a JSON object/],
    ["a string", "event", /not a JSON object/],
    ["no id", (() => { const e = sample("resource-write-success.eventgrid.json"); delete e.id; return e; })(), /missing required property 'id'/],
    ["wrong metadataVersion", { ...sample("resource-write-success.eventgrid.json"), metadataVersion: "2" }, /not a valid/],
    ["no operationName", (() => { const e = sample("resource-write-success.eventgrid.json"); delete e.data.operationName; return e; })(), /data.operationName is missing/],
    ["non-object data", { ...sample("resource-write-success.eventgrid.json"), data: 42 }, /data/],
    ["an oversized event", { ...sample("resource-write-success.eventgrid.json"), padding: "x".repeat(1_100_000) }, /larger than 1 MB/],
  ])("rejects %s as an EventError", async (_label, input, message) => {
    const attempt = parseEvent(input);
    await expect(attempt).rejects.toBeInstanceOf(EventError);
    await expect(parseEvent(input)).rejects.toThrow(message);
  });
});

describe("triage", () => {
  it("maps an ML compute write to the compute to read, with the actor from the claims", async () => {
    const verdict = triage(await parseEvent(mlVariant("resource-write-success.eventgrid.json", "Microsoft.MachineLearningServices/workspaces/computes/write")));
    expect(verdict).toMatchObject({ verdict: "evaluate", target: { kind: "compute", childNames: ["ci1"] }, actor: { objectId: "{ID}", name: "{full-name}" } });
  });

  it("accepts a compute start (ResourceActionSuccess, CloudEvents schema)", async () => {
    const verdict = triage(await parseEvent(mlVariant("resource-action-success.cloudevent.json", "Microsoft.MachineLearningServices/workspaces/computes/start/action")));
    expect(verdict.verdict).toBe("evaluate");
  });

  it.each([
    ["a compute stop (amlguard's own containment)", "Microsoft.MachineLearningServices/workspaces/computes/stop/action", "ignore"],
    ["a datastore write", "Microsoft.MachineLearningServices/workspaces/datastores/write", "ignore"],
    // Forged or inconsistent events are rejected (and audited), not silently ignored.
    ["a workspace write naming a compute (forged)", "Microsoft.MachineLearningServices/workspaces/write", "reject"],
  ])("triages %s as %s", async (_label, operationName, verdict) => {
    expect(triage(await parseEvent(mlVariant("resource-write-success.eventgrid.json", operationName))).verdict).toBe(verdict);
  });

  it("rejects forged resource URIs", async () => {
    for (const uri of [`${COMPUTE}/../../other`, `${COMPUTE}%2F..`, "/subscriptions/x/resourceGroups/y/providers/Microsoft.MachineLearningServices/workspaces/w/computes/c"]) {
      const event = mlVariant("resource-write-success.eventgrid.json", "Microsoft.MachineLearningServices/workspaces/computes/write");
      event.data.resourceUri = uri;
      expect(triage(await parseEvent(event)).verdict, uri).toBe("reject");
    }
  });

  it("ignores failed operations", async () => {
    const event = mlVariant("resource-write-success.eventgrid.json", "Microsoft.MachineLearningServices/workspaces/computes/write");
    event.data.status = "Failed";
    expect(triage(await parseEvent(event))).toMatchObject({ verdict: "ignore", reason: "operation status is Failed" });
  });

  it("handles exactly the write operations of the evaluated types, plus compute start", () => {
    expect([...HANDLED_OPERATIONS.keys()].sort()).toEqual([
      "Microsoft.MachineLearningServices/registries/write",
      "Microsoft.MachineLearningServices/workspaces/computes/start/action",
      "Microsoft.MachineLearningServices/workspaces/computes/write",
      "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write",
      "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write",
      "Microsoft.MachineLearningServices/workspaces/write",
    ]);
  });
});

describe("loop guard", () => {
  const self = { objectId: "0b07b07b-0000-4000-8000-000000000b07", clientId: "a11a11a1-0000-4000-8000-0000000000a1" };

  it("recognises amlguard by claims object id, app id, or evidence principalId (dashes and case ignored)", async () => {
    const base = mlVariant("resource-action-success.eventgrid.json", "Microsoft.MachineLearningServices/workspaces/computes/write");
    const byOid = structuredClone(base);
    byOid.data.claims["http://schemas.microsoft.com/identity/claims/objectidentifier"] = self.objectId.toUpperCase();
    const byAppId = structuredClone(base);
    byAppId.data.claims.appid = self.clientId;
    const byEvidence = structuredClone(base);
    byEvidence.data.authorization.evidence.principalId = self.objectId.replace(/-/g, "");
    for (const event of [byOid, byAppId, byEvidence]) expect(madeBySelfIdentity(await parseEvent(event), self)).toBe(true);
    expect(madeBySelfIdentity(await parseEvent(base), self)).toBe(false);
    expect(madeBySelfIdentity(await parseEvent(byOid), {})).toBe(false);
  });
});

/** What parseEvent read from an Event Grid schema event when it ran the SDK's deserializer on it (the reference). */
async function throughSdk(input: Record<string, unknown>): Promise<unknown> {
  try {
    const [event] = await new EventGridDeserializer().deserializeEventGridEvents(input);
    return { id: event!.id, eventType: event!.eventType, subject: event!.subject, time: event!.eventTime.getTime(), data: event!.data };
  } catch (error) {
    return `not a valid Event Grid or CloudEvents 1.0 event: ${(error as Error).message.split("\n")[0]}`;
  }
}

async function throughParse(input: Record<string, unknown>): Promise<unknown> {
  try {
    return await parseEvent(input);
  } catch (error) {
    return (error as Error).message;
  }
}

describe("parseEvent reads the Event Grid schema as the SDK's deserializer does, without its generic mapper", () => {
  it("the same events are accepted, with the same fields, and the same are refused, with the same messages", async () => {
    const fixture = sample("resource-write-success.eventgrid.json");
    const field = (value: unknown) => fc.oneof(fc.constant(value), fc.constant(undefined), fc.string(), fc.integer(), fc.constant(null));
    const data = fc.oneof(
      fc.constant(fixture.data),
      fc.record({ operationName: fc.oneof(fc.string(), fc.integer()), resourceUri: fc.string(), status: fc.constantFrom("Succeeded", "Failed") }),
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(0, "", false, null, undefined, [], ["x"], "text", 7, true),
    );
    const event = fc.record({
      id: field(fixture.id),
      topic: field(fixture.topic),
      subject: field(fixture.subject),
      eventType: fc.oneof(field(fixture.eventType), fc.constant("Microsoft.Resources.ResourceActionSuccess")),
      eventTime: fc.oneof(field(fixture.eventTime), fc.constant("not a time")),
      dataVersion: field(fixture.dataVersion),
      metadataVersion: fc.oneof(field("1"), fc.constant("2")),
      data,
      source: fc.constantFrom(undefined, "/subscriptions/x"),
    });
    await fc.assert(
      fc.asyncProperty(event, async (raw) => {
        const input = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
        const parsed = await throughParse(input);
        const reference = await throughSdk(input);
        if (typeof reference === "string") {
          // Refused by the SDK: refused here with its message.
          expect(parsed).toBe(reference);
          return;
        }
        const ref = reference as { id: string; eventType: string; subject: string; time: number; data: unknown };
        if (typeof parsed === "string") {
          // Refused after the SDK (data): the old path refused it with the same message.
          const isObject = typeof ref.data === "object" && ref.data !== null && !Array.isArray(ref.data);
          const dataOf = ref.data as Record<string, unknown>;
          const expected = !isObject ? "event data is not an object" : typeof dataOf.operationName !== "string" || dataOf.operationName === "" ? "event data.operationName is missing or not a string" : undefined;
          if (expected) expect(parsed).toBe(expected);
          else expect(parsed).toMatch(/^event data\.(resourceUri|status) is missing or not a string$/);
          return;
        }
        const event = parsed as Awaited<ReturnType<typeof parseEvent>>;
        expect({ id: event.id, eventType: event.eventType, subject: event.subject }).toEqual({ id: ref.id, eventType: ref.eventType, subject: ref.subject });
        if (!Number.isNaN(ref.time)) expect(Date.parse(event.time)).toBe(ref.time);
        expect(event.handled).toBe(["Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Resources.ResourceActionSuccess"].includes(input.source === undefined ? String(input.eventType) : String(input.type)));
      }),
      { numRuns: 2000 },
    );
  });

  it("the 1 MB check says what JSON.stringify's length says, for any JSON and any limit", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.string({ unit: "binary" }), fc.nat(600), (value, text, limit) => {
        const object = { value, text, escapes: text.replace(/./g, '"') };
        expect(jsonLengthExceeds(object, limit)).toBe(JSON.stringify(object).length > limit);
      }),
      { numRuns: 1000 },
    );
    // Deeper than the walk goes, and a cycle: JSON.stringify decides, and refuses the cycle as it always did.
    let deep: Record<string, unknown> = { leaf: "x".repeat(100) };
    for (let i = 0; i < 40; i++) deep = { deep };
    expect(jsonLengthExceeds(deep, 100)).toBe(true);
    expect(jsonLengthExceeds(deep, 10_000)).toBe(false);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => jsonLengthExceeds(cycle, 10)).toThrow(TypeError);
  });
});
