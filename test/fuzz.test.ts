import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, it } from "vitest";
import { EventError, parseEvent } from "../src/events/parse.js";
import { triage } from "../src/events/triage.js";
import { evaluateResource, RULES } from "../src/rules/index.js";
import { readExemption } from "../src/pipeline/exemptions.js";
import { cli } from "./helpers/cli.js";

const STACK = /\n\s+at |node_modules\//;

describe("fuzzing (fast-check): bad input gets a clear error, never a crash", () => {
  it("events: any JSON is parsed or refused with an EventError, and triage never throws", async () => {
    const base = { subject: "/x", eventType: "Microsoft.Resources.ResourceWriteSuccess", eventTime: "2026-11-25T00:00:00Z", id: "1", dataVersion: "2", metadataVersion: "1", topic: "/subscriptions/x" };
    const event = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ ...Object.fromEntries(Object.keys(base).map((k) => [k, fc.oneof(fc.string(), fc.constant((base as Record<string, string>)[k]!), fc.integer())])), data: fc.jsonValue({ maxDepth: 3 }) }),
      fc.record({ specversion: fc.constantFrom("1.0", "0.3", 1), type: fc.string(), source: fc.string(), id: fc.string(), data: fc.jsonValue({ maxDepth: 3 }) }),
      fc.record({ operationName: fc.string(), resourceUri: fc.string(), status: fc.constantFrom("Succeeded", "Failed", ""), claims: fc.dictionary(fc.string(), fc.string()) }).map((data) => ({ ...base, data })),
    );
    await fc.assert(
      fc.asyncProperty(event, async (input) => {
        try {
          triage(await parseEvent(input));
          return true;
        } catch (error) {
          return error instanceof EventError && !STACK.test(error.message) && error.message.length < 400;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("ARM responses with missing or odd fields: every rule evaluates without throwing", () => {
    const type = fc.constantFrom(
      "Microsoft.MachineLearningServices/workspaces",
      "microsoft.machinelearningservices/workspaces/computes",
      "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
      "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
      "Microsoft.MachineLearningServices/registries",
    );
    const odd = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom("Enabled", "disabled", "NotSpecified", "AmlCompute", "ComputeInstance", true, false, null));
    const properties = fc.dictionary(
      fc.constantFrom("publicNetworkAccess", "computeType", "properties", "disableLocalAuth", "authMode", "egressPublicNetworkAccess", "managedNetwork", "privateEndpointConnections", "encryption", "allowPublicAccessWhenBehindVnet"),
      fc.oneof(odd, fc.dictionary(fc.constantFrom("enableNodePublicIp", "sshSettings", "remoteLoginPortPublicAccess", "subnet", "isolationMode", "status", "osImageMetadata", "idleTimeBeforeShutdown"), odd)),
    );
    fc.assert(
      fc.property(type, fc.oneof(properties, fc.jsonValue({ maxDepth: 2 })), fc.oneof(fc.constant(undefined), fc.dictionary(fc.string(), fc.string())), (resourceType, props, tags) => {
        const resource = { id: "/subscriptions/s/resourceGroups/r/providers/x/y/z", type: resourceType, properties: props, ...(tags ? { tags } : {}) } as never;
        const findings = evaluateResource(resource) ?? [];
        readExemption(resource, RULES.map((r) => r.id), new Date());
        return findings.every((f) => typeof f.evidence.summary === "string" && f.evidence.summary.length > 0);
      }),
      { numRuns: 5000 },
    );
  });

  it("CLI inputs: random file contents and arguments exit 0, 1 or 2, with at most a one-line error and no stack", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amlguard-fuzz-"));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))), fc.array(fc.constantFrom("--json", "--nope", "-x", "--since", "evaluate"), { maxLength: 2 }), async (content, extra) => {
        const file = join(dir, `f${n++}.json`);
        writeFileSync(file, content);
        const result = await cli(["evaluate", file, ...extra]);
        return [0, 1, 2].includes(result.code) && !STACK.test(result.stderr) && result.stderr.trim().split("\n").length <= 2;
      }),
      { numRuns: 500 },
    );
  });
});
