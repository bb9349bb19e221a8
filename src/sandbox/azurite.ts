import { createRequire } from "node:module";

/** Azurite's well-known development account: public, documented, accepted only by the emulator. */
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}

export interface RunningAzurite {
  connectionString: string;
  close(): Promise<void>;
}

/**
 * Azurite's Table service in this process, in memory, on a free loopback port: Table Storage for tests and the demo.
 * Azurite ships no type declarations; the two classes used are loaded by path.
 */
export async function startAzuriteTables(): Promise<RunningAzurite> {
  const require = createRequire(import.meta.url);
  const TableServer = (require("azurite/dist/src/table/TableServer.js") as { default: new (config: unknown) => AzuriteServer }).default;
  const TableConfiguration = (require("azurite/dist/src/table/TableConfiguration.js") as { default: new (...args: unknown[]) => unknown }).default;
  // host, port, keepAlive, dbPath, debugLog, accessLog, accessLogStream, debugLogPath, loose, skipApiVersionCheck,
  // cert, key, pwd, oauth, disableProductStyleUrl, inMemoryPersistence
  const config = new TableConfiguration("127.0.0.1", 0, undefined, undefined, false, false, undefined, undefined, false, true, "", "", "", undefined, false, true);
  const server = new TableServer(config);
  await server.start();
  const address = server.getHttpServerAddress();
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};TableEndpoint=${address}/${DEV_ACCOUNT};`,
    close: () => server.close(),
  };
}
