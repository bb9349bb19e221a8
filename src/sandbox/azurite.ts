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
  /** The Table endpoint and account, for printing where the data is without the (well-known) key. */
  tableEndpoint: string;
  accountName: string;
  close(): Promise<void>;
}

/**
 * Azurite's Table service in this process, on a free loopback port: Table Storage for tests and the demo. In memory,
 * or kept in Azurite's own LokiJS database file at `dbPath` (written on close; the demo keeps its state this way).
 * Azurite ships no type declarations; the two classes used are loaded by path.
 */
export async function startAzuriteTables(options: { dbPath?: string } = {}): Promise<RunningAzurite> {
  const require = createRequire(import.meta.url);
  const TableServer = (require("azurite/dist/src/table/TableServer.js") as { default: new (config: unknown) => AzuriteServer }).default;
  const TableConfiguration = (require("azurite/dist/src/table/TableConfiguration.js") as { default: new (...args: unknown[]) => unknown }).default;
  // host, port, keepAlive, dbPath, debugLog, accessLog, accessLogStream, debugLogPath, loose, skipApiVersionCheck,
  // cert, key, pwd, oauth, disableProductStyleUrl, inMemoryPersistence
  const config = new TableConfiguration("127.0.0.1", 0, undefined, options.dbPath, false, false, undefined, undefined, false, true, "", "", "", undefined, false, options.dbPath === undefined);
  const server = new TableServer(config);
  await server.start();
  const address = server.getHttpServerAddress();
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};TableEndpoint=${address}/${DEV_ACCOUNT};`,
    tableEndpoint: `${address}/${DEV_ACCOUNT}`,
    accountName: DEV_ACCOUNT,
    close: () => server.close(),
  };
}
