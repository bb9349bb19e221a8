import { request } from "node:https";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import type { ArmResource } from "../../src/arm/resource.js";
import { ArmClient } from "../../src/azure/arm-client.js";
import { ArmSandbox, type ArmSandboxOptions } from "../../src/sandbox/arm-server.js";

export const SUB = "00000000-1111-2222-3333-444444444444";
export const RG = "rg-test";
export const WS_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/ws1`;

/** Gives one of Azure's examples a new id, so examples from different subscriptions live in one estate. */
export function rehome(resource: ArmResource, id: string): ArmResource {
  return { ...structuredClone(resource), id, name: id.split("/").pop()! };
}

export interface TestSandbox {
  sandbox: ArmSandbox;
  arm: ArmClient;
  sdk: AzureMachineLearningWorkspaces;
  /** A plain HTTPS request with a valid token (token: null sends none, a string sends that one). */
  raw(method: string, path: string, options?: RawOptions): Promise<RawResponse>;
}

export async function startTestSandbox(resources: ArmResource[], options: ArmSandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await new ArmSandbox(options).start();
  sandbox.seed(resources);
  const credential = sandbox.credential();
  const token = (await credential.getToken("https://management.azure.com/.default"))!.token;
  const arm = new ArmClient({ endpoint: sandbox.endpoint, credential, ca: sandbox.ca, maxRetries: 3 });
  const sdk = new AzureMachineLearningWorkspaces(credential, SUB, { endpoint: sandbox.endpoint, tlsOptions: { ca: sandbox.ca } });
  return { sandbox, arm, sdk, raw: (method, path, rawOptions = {}) => rawRequest(sandbox, method, path, { token, ...rawOptions }) };
}

interface RawOptions {
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** A plain HTTPS request, bypassing every SDK policy, to see exactly what the sandbox sends. */
function rawRequest(sandbox: ArmSandbox, method: string, path: string, options: RawOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, sandbox.endpoint);
    const payload = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (typeof options.token === "string") headers.Authorization = `Bearer ${options.token}`;
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    const req = request(url, { method, headers, ca: sandbox.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
