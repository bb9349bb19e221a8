import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EventError, parseEvent } from "../src/events/parse.js";
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
