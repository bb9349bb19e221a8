import { generate } from "selfsigned";

export interface SandboxCertificate {
  key: string;
  cert: string;
}

/**
 * A fresh self-signed certificate for localhost, made at every start (nothing secret is committed). Azure SDK
 * clients trust it through `tlsOptions.ca`; the bearer-token policy refuses plain HTTP, so TLS is not optional.
 */
export async function createLocalhostCertificate(): Promise<SandboxCertificate> {
  const now = Date.now();
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 7 * 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
