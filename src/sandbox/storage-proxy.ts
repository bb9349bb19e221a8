import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "./https.js";

/**
 * Table service operations, named after the REST API's (https://learn.microsoft.com/rest/api/storageservices/table-service-rest-api):
 * Create Table (POST /Tables), Query Tables (GET /Tables), Delete Table, Insert Entity (POST /{table}),
 * Update Entity / Insert Or Replace (PUT /{table}(PartitionKey='…',RowKey='…')), Merge Entity / Insert Or Merge
 * (MERGE, or PATCH as @azure/data-tables sends it), Delete Entity, a point read (GET with both keys), Query Entities
 * (GET /{table}() or with $filter) and an entity group transaction (POST /$batch).
 */
export type TableOperation = "createTable" | "queryTables" | "deleteTable" | "insert" | "update" | "merge" | "delete" | "get" | "query" | "batch" | "other";

export interface StorageCall {
  table: string;
  operation: TableOperation;
  /** Operations inside an entity group transaction (1 for anything else). */
  batchSize: number;
  status: number;
  /** performance.now() when the request arrived, and the latency injected before forwarding it. */
  atMs: number;
  injectedMs: number;
}

const ENTITY = /^([A-Za-z][A-Za-z0-9]{2,62})\((.*)\)$/;

/** Which table and operation a Table service request is, from its method and path (account segment first). */
export function classifyTableRequest(method: string, path: string, body = ""): { table: string; operation: TableOperation; batchSize: number } {
  const [, , ...rest] = path.split("?")[0]!.split("/");
  const resource = decodeURIComponent(rest.join("/"));
  const verb = method.toUpperCase();
  if (resource === "$batch" && verb === "POST") {
    // The multipart body holds one request line per operation: "POST|PUT|MERGE|PATCH|DELETE http://host/account/table…".
    const lines = [...body.matchAll(/^(?:POST|PUT|MERGE|PATCH|DELETE|GET) https?:\/\/[^/\s]+\/[^/\s]+\/([A-Za-z][A-Za-z0-9]{2,62})/gm)];
    return { table: lines[0]?.[1] ?? "", operation: "batch", batchSize: lines.length };
  }
  if (/^Tables(\(.*\))?$/.test(resource)) {
    const operation = verb === "POST" ? "createTable" : verb === "GET" ? "queryTables" : verb === "DELETE" ? "deleteTable" : "other";
    const named = /^Tables\('(.*)'\)$/.exec(resource)?.[1] ?? /"TableName"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? "";
    return { table: named, operation, batchSize: 1 };
  }
  const entity = ENTITY.exec(resource);
  const table = entity ? entity[1]! : resource;
  const keyed = entity !== null && /PartitionKey=/.test(entity[2]!) && /RowKey=/.test(entity[2]!);
  const operation: TableOperation =
    verb === "POST" && !entity ? "insert"
    : verb === "PUT" && keyed ? "update"
    : (verb === "PATCH" || verb === "MERGE") && keyed ? "merge"
    : verb === "DELETE" && keyed ? "delete"
    : verb === "GET" && keyed ? "get"
    : verb === "GET" ? "query"
    : "other";
  return { table, operation, batchSize: 1 };
}

/**
 * An HTTP proxy in front of Azurite's Table service: it records every request (table, operation, status) and can
 * delay each by an injected latency, so a benchmark sees Table Storage as far away as it is in Azure and can count
 * the calls each event costs. Shared Key signatures do not cover the host, so the proxy is transparent to the SDK.
 */
export class TableStorageProxy {
  readonly calls: StorageCall[] = [];
  /** Latency added to every request before it is forwarded. */
  latencyMs = 0;
  connectionString = "";
  private server?: Server;
  private readonly agent = new Agent({ keepAlive: true });
  private upstream?: URL;

  constructor(private readonly upstreamConnectionString: string) {}

  async start(): Promise<this> {
    const endpoint = /TableEndpoint=([^;]+)/.exec(this.upstreamConnectionString)?.[1];
    if (!endpoint) throw new Error("the upstream connection string has no TableEndpoint");
    this.upstream = new URL(endpoint);
    const server = createServer((req, res) => void this.forward(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    const { port } = server.address() as AddressInfo;
    const proxied = new URL(endpoint);
    proxied.host = `127.0.0.1:${port}`;
    this.connectionString = this.upstreamConnectionString.replace(endpoint, proxied.toString().replace(/\/$/, ""));
    return this;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const atMs = performance.now();
    const injectedMs = this.latencyMs;
    const body = await readBody(req);
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const call: StorageCall = { ...classifyTableRequest(method, path, body.toString("latin1")), status: 0, atMs, injectedMs };
    this.calls.push(call);
    if (injectedMs > 0) await new Promise((resolve) => setTimeout(resolve, injectedMs));
    const upstream = this.upstream!;
    const headers = { ...req.headers, host: upstream.host };
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method, path, headers, agent: this.agent }, (answer) => {
      call.status = answer.statusCode ?? 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on("error", () => {
      call.status = 502;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    out.end(body);
  }
}
