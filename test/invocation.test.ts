import azureFunctions, { type EventGridEvent, type Timer } from "@azure/functions";
import { AggregateAuthenticationError, CredentialUnavailableError } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { createEventGridHandler } from "../src/handlers/event-grid.js";
import { createHttpHandlers } from "../src/handlers/http.js";
import fc from "fast-check";
import { contextLogger, InvocationFailure } from "../src/handlers/invocation.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import { createOutboxHandler } from "../src/handlers/outbox.js";
import { createSweepHandler } from "../src/handlers/sweep.js";
import { RetryableEventError } from "../src/pipeline/process-event.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { createAzureRuntime, type Runtime } from "../src/runtime.js";
import type { AuditEntry } from "../src/state/audit.js";

const { HttpRequest } = azureFunctions;

/** An @azure/functions InvocationContext whose log lines are kept as "level message". */
function context(functionName: string) {
  const lines: string[] = [];
  const ctx = newInvocationContext(functionName, (level, ...args) => void lines.push(`${level} ${args.join(" ")}`));
  return { ctx, lines };
}

const fieldsOf = (line: string): Record<string, unknown> => JSON.parse(line.slice(line.indexOf("{")));
const timer = (isPastDue: boolean): Timer => ({ isPastDue, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } });
const SECRET = "AccountKey=c2VjcmV0a2V5";

describe("the invocation wrapper", () => {
  it("each log line is the message and the JSON of the invocation's fields with the line's own (those it leaves undefined dropped)", () => {
    // What every line was before the invocation's fields were serialised once: one merged object.
    const merged = (base: Record<string, unknown>, message: string, fields?: Record<string, unknown>) => {
      const all = { ...base, ...Object.fromEntries(Object.entries(fields ?? {}).filter(([, value]) => value !== undefined)) };
      return Object.keys(all).length ? `${message} ${JSON.stringify(all)}` : message;
    };
    const key = fc.oneof(fc.constantFrom("invocationId", "eventId", "correlationId", "0", "12", "__proto__", ""), fc.string({ maxLength: 6 }));
    const value = fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }));
    fc.assert(
      fc.property(fc.dictionary(key, fc.string()), fc.oneof(fc.constant(undefined), fc.dictionary(key, value)), (base, fields) => {
        const lines: string[] = [];
        const ctx = newInvocationContext("resourceEvents", (_level, ...args) => void lines.push(args.join(" ")));
        const log = contextLogger(ctx, base);
        log.info("a line", fields);
        log.warn("another line");
        expect(lines).toEqual([merged(base, "a line", fields), merged(base, "another line")]);
      }),
      { numRuns: 2000 },
    );
  });

  it("gives the handler a logger carrying invocationId, functionName, the event id and ARM's correlation id, and counts", async () => {
    const audited: AuditEntry[] = [];
    const runtime = { audit: { record: async (entry: AuditEntry) => void audited.push(entry) }, settings: { maxDeliveryAttempts: 30 } } as unknown as Runtime;
    const { ctx, lines } = context("resourceEvents");
    // Not a valid Event Grid event (no eventType): rejected and audited, but its id and correlation id are known.
    await createEventGridHandler(async () => runtime)({ id: "evt-1", data: { correlationId: "0b1c2d3e-0000-4000-8000-00000000c0de" } } as unknown as EventGridEvent, ctx);
    expect(audited.map((a) => a.decision)).toEqual(["rejected"]);
    const metrics = lines.find((l) => l.startsWith("information amlguard.metrics"))!;
    expect(fieldsOf(metrics)).toEqual({ invocationId: ctx.invocationId, functionName: "resourceEvents", eventId: "evt-1", correlationId: "0b1c2d3e-0000-4000-8000-00000000c0de", source: "event-grid", findings: 0, remediations: 0, alerts: 0, failures: 0, deferred: 0, rejected: 1 });
    for (const line of lines) expect(fieldsOf(line)).toMatchObject({ invocationId: ctx.invocationId, eventId: "evt-1" });
  });

  it("Event Grid: a failure is rethrown so the event is redelivered, as one safe line without a stack", async () => {
    const { ctx, lines } = context("resourceEvents");
    const inner = new RetryableEventError(`event evt-2: ARM 500 InternalServerError: backend ${SECRET} failed\n    at secretFrame (/home/app/x.js:1:1)`);
    const attempt = createEventGridHandler(async () => Promise.reject(inner))({ id: "evt-2" } as unknown as EventGridEvent, ctx);
    await expect(attempt).rejects.toBeInstanceOf(InvocationFailure);
    const failure = (await attempt.catch((e: unknown) => e)) as Error;
    expect(failure.name).toBe("RetryableEventError");
    expect(failure.stack).not.toMatch(/\n\s+at /);
    expect(lines.filter((l) => l.startsWith("error "))).toHaveLength(1);
    expect(lines.join("\n")).not.toMatch(/secretFrame|\n\s+at /);
    expect(fieldsOf(lines.find((l) => l.includes("amlguard.metrics"))!)).toMatchObject({ source: "event-grid", failures: 1 });
  });

  it("explains a credential failure in the log: which credentials were tried and what to do", async () => {
    const { ctx, lines } = context("resourceEvents");
    const signedOut = new AggregateAuthenticationError([new CredentialUnavailableError("ManagedIdentityCredential: Network unreachable. Message: network_error")], "ChainedTokenCredential authentication failed.");
    await expect(createEventGridHandler(async () => Promise.reject(signedOut))({ id: "evt-3" } as unknown as EventGridEvent, ctx)).rejects.toThrow(/no Azure credential is available/);
    expect(lines.find((l) => l.startsWith("error "))).toMatch(/Tried: managed identity \(ManagedIdentityCredential\): no endpoint reachable/);
  });

  it("timers: a late run is warned about; a failure is logged and counted, and the timer returns", async () => {
    const { ctx, lines } = context("sweep");
    await expect(createSweepHandler(async () => Promise.reject(new Error(`table down ${SECRET.slice(0, 3)}`)))(timer(true), ctx)).resolves.toBeUndefined();
    expect(lines[0]).toMatch(/^warning amlguard sweep is running late \{"invocationId":/);
    expect(lines.filter((l) => l.startsWith("error amlguard sweep failed: Error: table down"))).toHaveLength(1);
    expect(fieldsOf(lines.find((l) => l.includes("amlguard.metrics"))!)).toMatchObject({ functionName: "sweep", source: "sweep", failures: 1 });
    const onTime = context("alertOutbox");
    await createOutboxHandler(async () => ({}) as Runtime)(timer(false), onTime.ctx);
    expect(onTime.lines.some((l) => l.includes("running late"))).toBe(false);
    expect(fieldsOf(onTime.lines.find((l) => l.includes("amlguard.metrics"))!)).toMatchObject({ source: "outbox", failures: 0 });
  });

  it("HTTP: an internal failure answers 500 with the correlation id, never the reason; the log line has both", async () => {
    const { ctx, lines } = context("remediate");
    // Authentication is not what this test is about (test/http.test.ts and test/entra-token.test.ts are): a caller
    // that authenticates stands in for a validated token, so the failure comes from the runtime.
    const authenticated = { authenticateHeaders: async () => ({ objectId: "0e0a7e00-0000-4000-8000-000000000001", roles: ["AmlGuard.Read"], groups: [], groupsOverage: false }) };
    const handlers = createHttpHandlers(async () => Promise.reject(new Error(`connect ECONNREFUSED ${SECRET}`)), () => ({ remediateRole: "AmlGuard.Remediate", readRole: "AmlGuard.Read", remediateGroups: [], readGroups: [], rateLimitPerMinute: 10 }), () => authenticated);
    const response = await handlers.findings(new HttpRequest({ method: "GET", url: "https://x/api/findings?resourceId=/subscriptions/s" }), ctx);
    expect(response.status).toBe(500);
    const body = response.jsonBody as { correlationId: string; error: { code: string; message: string } };
    expect(body.error.code).toBe("InternalError");
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|AccountKey/);
    const error = lines.find((l) => l.startsWith("error "))!;
    expect(error).toMatch(/connect ECONNREFUSED/);
    expect(fieldsOf(error)).toMatchObject({ correlationId: body.correlationId, functionName: "remediate" });
  });

  it("the Functions runtime refuses a malformed storage connection string in words, not a TypeError", async () => {
    const made = createAzureRuntime(loadConfig({ AzureWebJobsStorage: "DefaultEndpointsProtocol=https;AccountName" }), { getToken: async () => null });
    await expect(made).rejects.toBeInstanceOf(ConfigError);
    await expect(made).rejects.toThrow(/storage connection string \(AMLGUARD_STORAGE_CONNECTION_STRING or AzureWebJobsStorage\) is malformed/);
  });
});
