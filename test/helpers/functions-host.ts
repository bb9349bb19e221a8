import azureFunctions, { type HttpHandler, type HttpResponseInit } from "@azure/functions";
import type { IncomingMessage, ServerResponse } from "node:http";
import { newInvocationContext } from "../../src/handlers/local-context.js";
import { listenHttps, readBody } from "../../src/sandbox/https.js";

// @azure/functions is CommonJS; Node's ESM loader sees only some of its named exports.
const { HttpRequest } = azureFunctions;

/** One HTTP function as functions/*.ts registers it: methods, route template (under /api) and handler. */
export interface LocalRoute {
  name: string;
  methods: string[];
  route: string;
  handler: HttpHandler;
}

export interface LocalFunctionsHost {
  /** https://localhost:PORT (the Function App's origin). */
  origin: string;
  /** Every request the host answered: method, path and status. */
  requests: Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

/**
 * A stand-in for the Functions host's HTTP front, for browser tests: HTTPS on loopback (self-signed), routes matched
 * as the host matches route templates (`{name}` one path segment) under the default `api` prefix, and each request
 * handed to the real handler as an @azure/functions HttpRequest. No function keys: browser-facing routes are anonymous.
 */
export async function startFunctionsHost(routes: LocalRoute[]): Promise<LocalFunctionsHost> {
  const requests: LocalFunctionsHost["requests"] = [];
  const compiled = routes.map((route) => {
    const names: string[] = [];
    const pattern = route.route.replace(/\{(\w+)\}/g, (_, name: string) => (names.push(name), "([^/]+)"));
    return { route, names, regex: new RegExp(`^/api/${pattern}$`, "i") };
  });
  let origin = "";
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", origin);
    const method = (req.method ?? "GET").toUpperCase();
    const record = { method, path: url.pathname, status: 0 };
    requests.push(record);
    const found = compiled
      .filter(({ route }) => route.methods.includes(method))
      .map(({ route, names, regex }) => ({ route, names, match: regex.exec(url.pathname) }))
      .find(({ match }) => match);
    if (!found?.match) {
      record.status = 404;
      res.writeHead(404, { "Content-Type": "text/plain" });
      return void res.end("no function serves this route");
    }
    const params = Object.fromEntries(found.names.map((name, i) => [name, decodeURIComponent(found.match![i + 1]!)]));
    const body = await readBody(req);
    const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === "string"));
    const request = new HttpRequest({ method, url: url.href, headers, query: Object.fromEntries(url.searchParams), params, ...(body.length ? { body: { bytes: body } } : {}) });
    let response: HttpResponseInit;
    try {
      response = await found.route.handler(request, newInvocationContext(found.route.name));
    } catch {
      response = { status: 500, body: "the handler threw" };
    }
    await send(res, response);
    record.status = res.statusCode;
  };
  const listener = await listenHttps(handle);
  origin = `https://localhost:${listener.port}`;
  return { origin, requests, close: () => listener.close() };
}

async function send(res: ServerResponse, response: HttpResponseInit): Promise<void> {
  const headers = new Headers(response.headers as ConstructorParameters<typeof Headers>[0]);
  let payload: Buffer;
  if (response.jsonBody !== undefined) {
    payload = Buffer.from(JSON.stringify(response.jsonBody));
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  } else {
    payload = response.body === undefined || response.body === null ? Buffer.alloc(0) : Buffer.from(await new Response(response.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
  }
  headers.set("content-length", String(payload.length));
  res.writeHead(response.status ?? 200, Object.fromEntries(headers));
  res.end(payload);
}
