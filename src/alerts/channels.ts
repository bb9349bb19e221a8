import type { TokenCredential } from "@azure/core-auth";
import { EmailClient } from "@azure/communication-email";
import { createDefaultHttpClient, createPipelineRequest, type HttpClient } from "@azure/core-rest-pipeline";
import nodemailer, { type Transporter } from "nodemailer";
import { redactUrl, scrub, secretsOf } from "../redact.js";
import type { Severity } from "../rules/rule.js";
import type { Alert } from "./alert.js";
import { renderEmail } from "./email.js";
import { alertCard, digestCard, teamsPayload } from "./teams-card.js";

/** A delivery that did not happen. Retryable unless `permanent` (the receiver refused the content itself). */
export class DeliveryError extends Error {
  override name = "DeliveryError";
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly permanent = false,
  ) {
    super(message);
  }
}

export type ChannelName = "teams" | "email";

export interface AlertChannel {
  readonly name: ChannelName;
  /** Alerts below this severity are not routed to the channel. */
  readonly minSeverity: Severity;
  /** Delivers the alerts as one message (a digest when there are several). */
  deliver(alerts: readonly Alert[]): Promise<void>;
}

const TIMEOUT_MS = 15_000;

/** Microsoft Teams through a Workflows webhook (Office 365 connectors are retired). Success is 202 with no body. */
export class TeamsChannel implements AlertChannel {
  readonly name = "teams";
  private readonly http: HttpClient = createDefaultHttpClient();
  private readonly secrets: string[];

  constructor(
    private readonly webhookUrl: string,
    readonly minSeverity: Severity,
    private readonly options: { ca?: string; portal?: string } = {},
  ) {
    if (!webhookUrl.startsWith("https://")) throw new Error(`Teams webhook must be https (${redactUrl(webhookUrl)})`);
    this.secrets = secretsOf(webhookUrl);
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    const content = alerts.length === 1 ? alertCard(alerts[0]!, this.options.portal) : digestCard(alerts, this.options.portal);
    const request = createPipelineRequest({
      url: this.webhookUrl,
      method: "POST",
      body: JSON.stringify(teamsPayload(content)),
      timeout: TIMEOUT_MS,
    });
    if (this.options.ca) request.tlsSettings = { ca: this.options.ca };
    request.headers.set("Content-Type", "application/json");
    const where = redactUrl(this.webhookUrl);
    let status: number;
    let retryAfter: string | undefined;
    let body = "";
    try {
      const response = await this.http.sendRequest(request);
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      body = response.bodyAsText ?? "";
    } catch (error) {
      throw new DeliveryError(scrub(`Teams webhook ${where} unreachable: ${(error as Error).message.split("\n")[0]}`, this.secrets));
    }
    if (status === 200 || status === 202) return;
    const detail = scrub(body.slice(0, 300), this.secrets);
    if (status === 429 || status >= 500 || status === 408) {
      throw new DeliveryError(`Teams webhook ${where} answered ${status}`, retryAfterMs(retryAfter));
    }
    throw new DeliveryError(`Teams webhook ${where} refused the message: ${status} ${detail}`, undefined, true);
  }
}

function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Email over SMTP (nodemailer). Off loopback, STARTTLS is required. */
export class SmtpChannel implements AlertChannel {
  readonly name = "email";
  private readonly transport: Transporter;
  private readonly secrets: string[];

  constructor(
    smtpUrl: string,
    private readonly from: string,
    private readonly to: readonly string[],
    readonly minSeverity: Severity,
    private readonly portal?: string,
  ) {
    const url = new URL(smtpUrl);
    const loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].includes(url.hostname);
    this.transport = nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port || (url.protocol === "smtps:" ? 465 : 587)),
      secure: url.protocol === "smtps:",
      requireTLS: !loopback && url.protocol !== "smtps:",
      ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
    this.secrets = secretsOf(smtpUrl);
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    const email = renderEmail(alerts, this.portal);
    try {
      await this.transport.sendMail({ from: this.from, to: [...this.to], subject: email.subject, text: email.text, html: email.html });
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      const message = scrub(`SMTP delivery failed: ${(error as Error).message.split("\n")[0]}`, this.secrets);
      // 5xx SMTP replies are permanent (bad recipient, refused content); everything else is worth retrying.
      throw new DeliveryError(message, undefined, code !== undefined && code >= 500 && code < 600);
    }
  }
}

/** Email through Azure Communication Services, authenticated with the managed identity. */
export class AcsEmailChannel implements AlertChannel {
  readonly name = "email";
  private readonly client: EmailClient;

  constructor(
    endpoint: string,
    credential: TokenCredential,
    private readonly from: string,
    private readonly to: readonly string[],
    readonly minSeverity: Severity,
    private readonly options: { ca?: string; portal?: string; pollIntervalMs?: number } = {},
  ) {
    this.client = new EmailClient(endpoint, credential, options.ca ? { tlsOptions: { ca: options.ca } } : {});
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    const email = renderEmail(alerts, this.options.portal);
    try {
      const poller = await this.client.beginSend(
        {
          senderAddress: this.from,
          content: { subject: email.subject, plainText: email.text, html: email.html },
          recipients: { to: this.to.map((address) => ({ address })) },
        },
        { updateIntervalInMs: this.options.pollIntervalMs ?? 2000 },
      );
      const result = await poller.pollUntilDone();
      if (result.status !== "Succeeded") throw new Error(`send status ${result.status}`);
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      throw new DeliveryError(`ACS email failed: ${(error as Error).message.split("\n")[0]}`, undefined, status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408);
    }
  }
}
