import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedEmail {
  at: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

/**
 * An SMTP server on loopback that keeps what it receives. `down` makes it answer 421 (transient, RFC 5321 §4.2.3)
 * like a busy relay; `refuseConnections = n` does so for the next n connections only, so an outage is defined by
 * attempts, not by how long a busy machine takes to make them.
 */
export class SmtpSink {
  readonly received: ReceivedEmail[] = [];
  down = false;
  refuseConnections = 0;
  /** Connections answered 421. */
  refused = 0;
  private server?: SMTPServer;
  url = "";

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onConnect: (_session, callback) => {
        const refuse = this.down || this.refuseConnections > 0;
        if (!refuse) return callback();
        if (!this.down) this.refuseConnections -= 1;
        this.refused += 1;
        callback(Object.assign(new Error("Service not available, try again later"), { responseCode: 421 }));
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((mail) => {
            this.received.push({
              at: new Date().toISOString(),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? "",
              text: mail.text ?? "",
              html: typeof mail.html === "string" ? mail.html : "",
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
    this.url = `smtp://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
