import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_TEAMS_PAYLOAD_BYTES } from "../alerts/teams-card.js";
import { isJsonObject } from "../arm/resource.js";
import { adaptiveCardProblems } from "./adaptive-card-check.js";
import { listenHttps, readBody, type HttpsListener } from "./https.js";
import { FaultInjector } from "./faults.js";

export interface ReceivedCard {
  at: string;
  card: Record<string, unknown>;
}

/**
 * A Teams Workflows webhook ("When a Teams webhook request is received" → "Post card in a chat or channel").
 * The real trigger answers 202 and the flow fails later on a bad card; this receiver refuses such payloads at once
 * (400), so tests see what the real flow would fail on: no attachments, a non-Adaptive-Card attachment, a card the
 * Adaptive Cards parser rejects, a version Teams cannot render, or a body over 28 KB (413). The URL carries a
 * `sig` signature like the real one; a wrong one is 401.
 */
export class TeamsWorkflowsReceiver {
  readonly faults = new FaultInjector();
  readonly received: ReceivedCard[] = [];
  readonly rejected: Array<{ status: number; reason: string }> = [];
  private listener?: HttpsListener;
  private readonly signature = randomBytes(24).toString("base64url");
  webhookUrl = "";
  ca = "";

  async start(): Promise<this> {
    this.listener = await listenHttps((req, res) => this.handle(req, res));
    this.ca = this.listener.ca;
    const workflow = randomUUID().replace(/-/g, "");
    this.webhookUrl = `https://localhost:${this.listener.port}/workflows/${workflow}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${this.signature}`;
    return this;
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }


  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const raw = await readBody(req);
    const { latencyMs, fault } = this.faults.take(req.method ?? "POST", url.pathname);
    if (latencyMs) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (fault?.kind === "drop") return void req.socket.destroy();
    if (fault?.kind === "throttle") return this.refuse(res, 429, "Rate limit is exceeded. Try again later.", { "Retry-After": String(fault.retryAfterSeconds ?? 1) });
    if (fault?.kind === "server-error") return this.refuse(res, fault.statusCode ?? 503, "The service is temporarily unavailable.");
    if (req.method !== "POST" || !/^\/workflows\/[0-9a-f]+\/triggers\/manual\/paths\/invoke$/.test(url.pathname)) return this.refuse(res, 404, "Not found");
    if (url.searchParams.get("sig") !== this.signature) return this.refuse(res, 401, "The provided signature is not valid.", {}, "DirectApiInvalidAuthorizationSignature");
    if (raw.length > MAX_TEAMS_PAYLOAD_BYTES) return this.refuse(res, 413, `The payload is ${raw.length} bytes; the limit is ${MAX_TEAMS_PAYLOAD_BYTES}.`);
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString("utf8"));
    } catch {
      return this.refuse(res, 400, "The request content is not valid JSON.");
    }
    const problem = this.problemWith(payload);
    if (problem) return this.refuse(res, 400, problem);
    const attachments = (payload as { attachments: Array<{ content: Record<string, unknown> }> }).attachments;
    for (const attachment of attachments) this.received.push({ at: new Date().toISOString(), card: attachment.content });
    res.writeHead(202, { "Content-Length": 0 });
    res.end();
  }

  private problemWith(payload: unknown): string | undefined {
    if (!isJsonObject(payload) || payload.type !== "message") return "The payload must be an object with type 'message'.";
    const attachments = payload.attachments;
    if (!Array.isArray(attachments) || attachments.length === 0) return "The message has no attachments.";
    for (const attachment of attachments) {
      if (!isJsonObject(attachment) || attachment.contentType !== "application/vnd.microsoft.card.adaptive") {
        return "Each attachment must have contentType application/vnd.microsoft.card.adaptive.";
      }
      const problems = adaptiveCardProblems(attachment.content);
      if (problems.length) return `Invalid Adaptive Card: ${problems.slice(0, 3).join("; ")}`;
    }
    return undefined;
  }

  private refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = "InvalidRequest"): void {
    this.rejected.push({ status, reason: message });
    const body = JSON.stringify({ error: { code, message } });
    res.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  }
}
