/**
 * Table Storage for the events benchmark in a process of its own: Azurite behind the latency proxy. In Azure, the
 * storage service's work is not done on amlguard's CPU; here it would be, and it would count as amlguard's overhead.
 * Run as a child (IPC): it sends {connectionString} once started, answers {calls: from} with the calls since that
 * index (times on the shared epoch clock: performance.timeOrigin + performance.now()), takes {latencyMs}, and stops
 * on {stop}. `startStorageProcess` is the parent's side.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startAzuriteTables } from "../src/sandbox/azurite.js";
import { TableStorageProxy, type StorageCall } from "../src/sandbox/storage-proxy.js";

type Request = { id: number } & ({ calls: number } | { latencyMs: number } | { stop: true });

export interface StorageProcess {
  connectionString: string;
  setLatency(ms: number): Promise<void>;
  /** Calls from index `from` on, with `atMs` on the epoch clock. */
  calls(from: number): Promise<StorageCall[]>;
  close(): Promise<void>;
}

export async function startStorageProcess(): Promise<StorageProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--serve"], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiting = new Map<number, (value: unknown) => void>();
  let next = 0;
  const connectionString = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the storage process exited (${code})`)));
    child.on("message", (message: { id?: number; connectionString?: string; result?: unknown }) => {
      if (message.connectionString) resolve(message.connectionString);
      else if (message.id !== undefined) {
        waiting.get(message.id)?.(message.result);
        waiting.delete(message.id);
      }
    });
  });
  const ask = <T>(request: Omit<Request, "id">): Promise<T> =>
    new Promise<T>((resolve) => {
      const id = next++;
      waiting.set(id, resolve as (value: unknown) => void);
      child.send({ ...request, id });
    });
  return {
    connectionString,
    setLatency: (ms) => ask({ latencyMs: ms }),
    calls: (from) => ask({ calls: from }),
    close: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await ask({ stop: true }).catch(() => undefined);
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  const azurite = await startAzuriteTables();
  const proxy = await new TableStorageProxy(azurite.connectionString).start();
  const epoch = (call: StorageCall): StorageCall => ({ ...call, atMs: performance.timeOrigin + call.atMs });
  process.on("message", (request: Request) => {
    if ("calls" in request) process.send!({ id: request.id, result: proxy.calls.slice(request.calls).map(epoch) });
    else if ("latencyMs" in request) {
      proxy.latencyMs = request.latencyMs;
      process.send!({ id: request.id, result: null });
    } else {
      void Promise.all([proxy.close(), azurite.close()]).then(() => {
        process.send!({ id: request.id, result: null });
        process.disconnect();
      });
    }
  });
  process.send!({ connectionString: proxy.connectionString });
}

if (process.argv.includes("--serve")) await serve();
