import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenCredential } from "@azure/core-auth";
import { isJsonObject } from "../arm/resource.js";
import { listenHttps, readBody, SandboxTokens, type HttpsListener } from "./https.js";
import type { ReceivedEmail } from "./smtp-sink.js";

/**
 * Azure Communication Services Email, data plane 2023-03-31 and 2025-09-01 (what @azure/communication-email 1.1 sends): POST /emails:send answers 202 with Operation-Location;
 * GET /emails/operations/{id} reports Running then Succeeded (azure-rest-api-specs
 * specification/communication/data-plane/Email, examples SendEmail.json and GetSendResult.json). Bearer tokens only.
 */
export class AcsEmailSandbox {
  readonly received: ReceivedEmail[] = [];
  private readonly operations = new Map<string, number>();
  private readonly tokens = new SandboxTokens("acs");
  private listener?: HttpsListener;
  endpoint = "";
  ca = "";

  async start(): Promise<this> {
    this.listener = await listenHttps((req, res) => this.handle(req, res));
    this.ca = this.listener.ca;
    this.endpoint = `https://localhost:${this.listener.port}`;
    return this;
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }

  credential(): TokenCredential {
    return this.tokens.credential();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const rawBody = await readBody(req);
    if (this.tokens.check(req.headers.authorization) !== "ok") return send(res, 401, { error: { code: "Unauthorized", message: "Denied by the resource provider." } });
    const apiVersion = url.searchParams.get("api-version") ?? "";
    if (!["2023-03-31", "2025-09-01"].includes(apiVersion)) return send(res, 400, { error: { code: "InvalidApiVersion", message: "The api-version is not supported." } });
    const operation = /^\/emails\/operations\/([\w-]+)$/.exec(url.pathname);
    if (req.method === "GET" && operation) {
      if (!this.operations.has(operation[1]!)) return send(res, 404, { error: { code: "NotFound", message: "Operation not found." } });
      return send(res, 200, { id: operation[1], status: "Succeeded" });
    }
    if (req.method !== "POST" || url.pathname !== "/emails:send") return send(res, 404, { error: { code: "NotFound", message: "Not found." } });
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString("utf8"));
    } catch {
      return send(res, 400, { error: { code: "BadRequest", message: "The request body is not valid JSON." } });
    }
    const message = isJsonObject(body) ? body : {};
    const content = isJsonObject(message.content) ? message.content : {};
    const to = isJsonObject(message.recipients) && Array.isArray(message.recipients.to) ? message.recipients.to : [];
    if (typeof message.senderAddress !== "string" || typeof content.subject !== "string" || to.length === 0) {
      return send(res, 400, { error: { code: "BadRequest", message: "senderAddress, content.subject and recipients.to are required." } });
    }
    const id = randomUUID();
    this.operations.set(id, Date.now());
    this.received.push({
      at: new Date().toISOString(),
      from: message.senderAddress,
      to: to.map((r) => (isJsonObject(r) && typeof r.address === "string" ? r.address : "")),
      subject: content.subject,
      text: typeof content.plainText === "string" ? content.plainText : "",
      html: typeof content.html === "string" ? content.html : "",
    });
    return send(res, 202, { id, status: "Running" }, {
      "Operation-Location": `${this.endpoint}/emails/operations/${id}?api-version=${apiVersion}`,
      "Retry-After": "0",
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "x-ms-request-id": randomUUID() });
  res.end(text);
}
