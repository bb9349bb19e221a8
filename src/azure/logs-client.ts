import type { TokenCredential } from "@azure/core-auth";
import { LogsQueryClient, LogsQueryResultStatus } from "@azure/monitor-query-logs";
import type { FailureBucket } from "../spikes/detect.js";

/** Log Analytics through @azure/monitor-query-logs; the endpoint must end in /v1 (the client appends the path). */
export class LogsClient {
  private readonly client: LogsQueryClient;

  constructor(options: { endpoint: string; credential: TokenCredential; ca?: string }) {
    if (!/^https:\/\/.+\/v1\/?$/.test(options.endpoint)) throw new Error("the Log Analytics endpoint must be https and end in /v1");
    this.client = new LogsQueryClient(options.credential, { endpoint: options.endpoint.replace(/\/$/, ""), ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}) });
  }

  /** Runs the spike query over [start, end) and maps its rows. A partial result is an error: nothing is half-judged. */
  async failureBuckets(workspaceId: string, query: string, start: Date, end: Date): Promise<FailureBucket[]> {
    const result = await this.client.queryWorkspace(workspaceId, query, { startTime: start, endTime: end }, { serverTimeoutInSeconds: 180 });
    if (result.status !== LogsQueryResultStatus.Success) throw new Error(`Log Analytics returned a partial result: ${result.partialError?.message ?? "unknown"}`);
    const table = result.tables[0];
    if (!table) return [];
    const index = new Map(table.columnDescriptors.map((c, i) => [c.name ?? "", i]));
    const cell = (row: unknown[], name: string): unknown => row[index.get(name) ?? -1];
    const date = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
    return table.rows.map((row) => ({
      source: String(cell(row, "Source") ?? ""),
      target: String(cell(row, "Target") ?? ""),
      principal: String(cell(row, "Principal") ?? ""),
      ipAddress: String(cell(row, "IpAddress") ?? ""),
      bucket: date(cell(row, "Bucket")),
      failures: Number(cell(row, "Failures") ?? 0),
      firstSeen: date(cell(row, "FirstSeen")),
      lastSeen: date(cell(row, "LastSeen")),
    }));
  }
}
