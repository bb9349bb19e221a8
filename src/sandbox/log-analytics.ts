import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenCredential } from "@azure/core-auth";
import type { FailureBucket } from "../spikes/detect.js";
import { SPIKE_QUERY_MARKER } from "../spikes/query.js";
import { listenHttps, readBody, SandboxTokens, type HttpsListener } from "./https.js";
import { FaultInjector } from "./faults.js";

const COLUMNS = [
  { name: "Source", type: "string" },
  { name: "Target", type: "string" },
  { name: "Principal", type: "string" },
  { name: "IpAddress", type: "string" },
  { name: "Bucket", type: "datetime" },
  { name: "Failures", type: "long" },
  { name: "FirstSeen", type: "datetime" },
  { name: "LastSeen", type: "datetime" },
];

/**
 * The Log Analytics query API (`POST /v1/workspaces/{workspaceId}/query`, body `{query, timespan}`, answer
 * `{tables:[{name, columns, rows}]}`), serving a workspace's failed-authentication counts. It runs no KQL: it answers
 * amlguard's spike query (recognised by its marker line and `let lookback`) from pre-aggregated buckets, and refuses
 * anything else as Log Analytics refuses a bad query (400 BadArgumentError / SyntaxError). Errors as the API sends
 * them: 401 AuthorizationRequiredError without a token, 403 InsufficientAccessError for an unknown token, 404
 * WorkspaceNotFoundError, 429 with Retry-After (faults).
 */
export class LogAnalyticsSandbox {
  readonly faults = new FaultInjector();
  readonly queries: string[] = [];
  private readonly workspaces = new Map<string, FailureBucket[]>();
  private readonly tokens = new SandboxTokens("la");
  private listener?: HttpsListener;
  endpoint = "";
  ca = "";

  async start(): Promise<this> {
    this.listener = await listenHttps((req, res) => this.handle(req, res));
    this.ca = this.listener.ca;
    this.endpoint = `https://localhost:${this.listener.port}/v1`;
    return this;
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }


  /** A workspace holding these failure buckets. */
  addWorkspace(workspaceId: string, rows: FailureBucket[]): void {
    this.workspaces.set(workspaceId.toLowerCase(), rows);
  }

  credential(): TokenCredential {
    return this.tokens.credential();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const rawBody = await readBody(req);
    const { fault } = this.faults.take(req.method ?? "POST", url.pathname);
    if (fault?.kind === "throttle") return send(res, 429, error("ThrottledError", "Your request was throttled."), { "Retry-After": String(fault.retryAfterSeconds ?? 1) });
    if (fault?.kind === "server-error") return send(res, fault.statusCode ?? 503, error("ServiceUnavailableError", "The service is unavailable."));
    const token = this.tokens.check(req.headers.authorization);
    if (token === "missing") return send(res, 401, error("AuthorizationRequiredError", "Valid authentication was not provided"));
    if (token === "unknown") return send(res, 403, error("InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation"));
    const match = /^\/v1\/workspaces\/([^/]+)\/query$/.exec(url.pathname);
    if (req.method !== "POST" || !match) return send(res, 404, error("PathNotFoundError", "The requested path does not exist"));
    const rows = this.workspaces.get(decodeURIComponent(match[1]!).toLowerCase());
    if (!rows) return send(res, 404, error("WorkspaceNotFoundError", `Workspace ${match[1]!.slice(0, 64)} not found`));
    let body: { query?: unknown; timespan?: unknown };
    try {
      body = JSON.parse(rawBody.toString("utf8")) as typeof body;
    } catch {
      return send(res, 400, error("BadArgumentError", "The request had some invalid properties"));
    }
    if (typeof body.query !== "string") return send(res, 400, error("BadArgumentError", "The request had some invalid properties"));
    this.queries.push(body.query);
    const lookback = /let lookback = (\d+)d;/.exec(body.query);
    if (!body.query.startsWith(SPIKE_QUERY_MARKER) || !lookback) {
      return send(res, 400, { error: { message: "The request had some invalid properties", code: "BadArgumentError", correlationId: randomUUID(), innererror: { code: "SyntaxError", message: "The sandbox answers amlguard's spike query only." } } });
    }
    const [start, end] = typeof body.timespan === "string" ? body.timespan.split("/").map((t) => Date.parse(t)) : [Number.NaN, Number.NaN];
    const from = Math.max(Number.isNaN(start!) ? 0 : start!, (Number.isNaN(end!) ? Date.now() : end!) - Number(lookback[1]) * 86_400_000);
    const to = Number.isNaN(end!) ? Date.now() : end!;
    const selected = rows.filter((r) => r.bucket.getTime() >= from && r.bucket.getTime() < to);
    return send(res, 200, {
      tables: [
        {
          name: "PrimaryResult",
          columns: COLUMNS,
          rows: selected.map((r) => [r.source, r.target, r.principal, r.ipAddress, r.bucket.toISOString(), r.failures, r.firstSeen.toISOString(), r.lastSeen.toISOString()]),
        },
      ],
    });
  }
}

function error(code: string, message: string): Record<string, unknown> {
  return { error: { message, code, correlationId: randomUUID() } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
