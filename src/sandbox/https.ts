import { randomBytes } from "node:crypto";
import { createServer } from "node:https";
import type { TokenCredential } from "@azure/core-auth";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createLocalhostCertificate } from "./cert.js";

/** A sandbox's HTTPS listener on loopback: its port, the CA clients must trust, and how to stop it. */
export interface HttpsListener {
  port: number;
  ca: string;
  close(): Promise<void>;
}

/** Starts an HTTPS server with a fresh self-signed certificate on 127.0.0.1 (port 0: a free one). */
export async function listenHttps(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, port = 0): Promise<HttpsListener> {
  const { key, cert } = await createLocalhostCertificate();
  const server = createServer({ key, cert }, (req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    ca: cert,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Bearer tokens a sandbox issued: a credential hands them to the SDK, the server accepts only those. */
export class SandboxTokens {
  private readonly issued = new Set<string>();

  constructor(private readonly prefix: string) {}

  credential(): TokenCredential {
    const token = `${this.prefix}.${randomBytes(16).toString("hex")}`;
    this.issued.add(token);
    return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
  }

  /** "missing" without an Authorization header, "unknown" for a token this sandbox did not issue. */
  check(authorization: string | undefined): "ok" | "missing" | "unknown" {
    const match = /^Bearer (\S+)$/.exec(authorization ?? "");
    if (!match) return "missing";
    return this.issued.has(match[1]!) ? "ok" : "unknown";
  }
}
