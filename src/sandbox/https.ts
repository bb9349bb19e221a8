import { createServer } from "node:https";
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
