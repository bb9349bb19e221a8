import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { coveredMs, percentile, ratesBy } from "../bench/measure.js";
import { startAzuriteTables } from "../src/sandbox/azurite.js";
import { classifyTableRequest, TableStorageProxy } from "../src/sandbox/storage-proxy.js";
import { openTable } from "../src/state/tables.js";

describe("benchmark measures", () => {
  it("injected critical-path time counts overlapping delays once and clips them to the event", () => {
    // An ARM call of 50 from 0, two parallel storage calls of 5 at 60 and 62, one of 5 at 100 running past the end.
    const delays = [{ atMs: 0, ms: 50 }, { atMs: 60, ms: 5 }, { atMs: 62, ms: 5 }, { atMs: 100, ms: 5 }];
    expect(coveredMs(delays, 0, 103)).toBe(50 + 7 + 3);
    expect(coveredMs([], 0, 10)).toBe(0);
    expect(coveredMs([{ atMs: 0, ms: 10 }, { atMs: 2, ms: 3 }], 0, 20)).toBe(10);
  });

  it("percentiles by nearest rank, rates per event by key", () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(6);
    expect(percentile([1, 2, 3], 99)).toBe(3);
    expect(percentile([], 50)).toBe(0);
    expect(ratesBy(["a", "b", "a"], (x) => x, 2)).toEqual({ a: 1, b: 0.5 });
  });

  it("classifies Table service requests by table and operation (REST API shapes)", () => {
    const account = "/devstoreaccount1";
    expect(classifyTableRequest("POST", `${account}/Tables`)).toMatchObject({ operation: "createTable" });
    expect(classifyTableRequest("POST", `${account}/tevents`)).toEqual({ table: "tevents", operation: "insert", batchSize: 1 });
    expect(classifyTableRequest("GET", `${account}/tevents(PartitionKey='p',RowKey='claim')`)).toMatchObject({ table: "tevents", operation: "get" });
    expect(classifyTableRequest("PATCH", `${account}/tevents(PartitionKey='p',RowKey='claim')`)).toMatchObject({ operation: "merge" });
    expect(classifyTableRequest("MERGE", `${account}/tevents(PartitionKey='p',RowKey='claim')`)).toMatchObject({ operation: "merge" });
    expect(classifyTableRequest("PUT", `${account}/tevents(PartitionKey='p',RowKey='claim')`)).toMatchObject({ operation: "update" });
    expect(classifyTableRequest("DELETE", `${account}/tevents(PartitionKey='p',RowKey='claim')`)).toMatchObject({ operation: "delete" });
    expect(classifyTableRequest("GET", `${account}/taudit()?$filter=x`)).toMatchObject({ table: "taudit", operation: "query" });
    const batch = ["--batch_1", "--changeset_1", "POST http://127.0.0.1:1/devstoreaccount1/taudit HTTP/1.1", "", "--changeset_1", "POST http://127.0.0.1:1/devstoreaccount1/taudit HTTP/1.1", ""].join("\r\n");
    expect(classifyTableRequest("POST", `${account}/$batch`, batch)).toEqual({ table: "taudit", operation: "batch", batchSize: 2 });
  });

  it("the storage proxy forwards the SDK's calls to Azurite, counts each, and adds the injected latency", async () => {
    const azurite = await startAzuriteTables();
    const proxy = await new TableStorageProxy(azurite.connectionString).start();
    try {
      const name = `p${randomBytes(5).toString("hex")}`;
      const table = await openTable({ connectionString: proxy.connectionString }, name);
      proxy.latencyMs = 3;
      await table.createEntity({ partitionKey: "p", rowKey: "r", n: 1 });
      await table.updateEntity({ partitionKey: "p", rowKey: "r", n: 2 }, "Merge");
      await table.submitTransaction([["create", { partitionKey: "p", rowKey: "a" }], ["create", { partitionKey: "p", rowKey: "b" }]]);
      expect((await table.getEntity<{ n: number }>("p", "r")).n).toBe(2);
      const calls = proxy.calls.filter((c) => c.table === name);
      expect(calls.map((c) => `${c.operation}:${c.injectedMs}`)).toEqual(["createTable:0", "insert:3", "merge:3", "batch:3", "get:3"]);
      expect(calls.slice(1).map((c) => c.status)).toEqual([204, 204, 202, 200]);
      expect(calls.find((c) => c.operation === "batch")?.batchSize).toBe(2);
    } finally {
      await proxy.close();
      await azurite.close();
    }
  });
});
