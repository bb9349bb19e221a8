import { randomBytes } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROPOSAL_INDEX_PARTITION, ProposalStore, type Proposal } from "../src/proposals/store.js";
import { startAzuriteTables, type RunningAzurite } from "../src/sandbox/azurite.js";
import { purgeStale, retentionTargets, PROPOSAL_RETENTION_DAYS } from "../src/state/retention.js";
import { openTable, tableNames } from "../src/state/tables.js";

// The proposals table in Azurite: a lookup by id is a point read through its index row (never a scan of the table),
// an id written before the index (or whose index write was lost) is still found and indexed, and the daily
// retention prunes decided proposals by age on an injected clock while pending ones stay.
const WS = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-";
const DAY = 86_400_000;

let azurite: RunningAzurite;
beforeAll(async () => {
  azurite = await startAzuriteTables();
});
afterAll(async () => {
  await azurite.close();
});

const fields = (n: number): Omit<Proposal, "id" | "status"> => ({
  kind: "remediation",
  resourceId: `${WS}${n}`,
  ruleIds: ["workspace-public-network-access"],
  findings: [],
  action: { id: "workspace-disable-public-network-access", description: "PATCH publicNetworkAccess Disabled", before: { publicNetworkAccess: "Enabled" }, after: { publicNetworkAccess: "Disabled" }, undo: "az ml workspace update --public-network-access Enabled" },
  observed: { etag: `"${n}"`, values: { publicNetworkAccess: "Enabled" } },
  correlationId: "c0ffee00-0000-4000-8000-000000000001",
  createdAt: "2026-11-25T09:00:00.000Z",
  expiresAt: "2026-11-26T09:00:00.000Z",
});

/** Counts the queries (listEntities) the store makes, beside its point reads. */
function counting(table: TableClient): { table: TableClient; queries: () => number } {
  let queries = 0;
  const proxy = new Proxy(table, {
    get(target, name, receiver) {
      if (name === "listEntities") return (...args: Parameters<TableClient["listEntities"]>) => ((queries += 1), target.listEntities(...args));
      const value = Reflect.get(target, name, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { table: proxy, queries: () => queries };
}

async function freshTable(): Promise<{ table: TableClient; prefix: string }> {
  const prefix = `p${randomBytes(4).toString("hex")}`;
  return { table: await openTable({ connectionString: azurite.connectionString }, tableNames(prefix).proposals), prefix };
}

describe("proposals by id", () => {
  it("reads a proposal by id with point reads only; lists never show the index rows", async () => {
    const { table } = await freshTable();
    const counted = counting(table);
    const store = new ProposalStore(counted.table);
    const { proposal } = await store.propose(fields(1), "k1");
    await store.propose(fields(2), "k2");
    const before = counted.queries();
    expect((await store.get(proposal.id))?.proposal).toMatchObject({ id: proposal.id, resourceId: `${WS}1`, status: "pending" });
    expect((await store.get(proposal.id.toUpperCase()))?.proposal.id).toBe(proposal.id);
    expect(counted.queries()).toBe(before);
    expect((await store.list()).map((p) => p.resourceId).sort()).toEqual([`${WS}1`, `${WS}2`]);
    expect(await store.list("pending")).toHaveLength(2);
  });

  it("an id with no index row (written before the index, or its index write lost) is found once by a query and indexed", async () => {
    const { table } = await freshTable();
    const counted = counting(table);
    const store = new ProposalStore(counted.table);
    const { proposal } = await store.propose(fields(3), "k3");
    await table.deleteEntity(PROPOSAL_INDEX_PARTITION, proposal.id);
    const before = counted.queries();
    expect((await store.get(proposal.id))?.proposal.id).toBe(proposal.id);
    expect(counted.queries()).toBe(before + 1);
    expect((await store.get(proposal.id))?.proposal.id).toBe(proposal.id);
    expect(counted.queries()).toBe(before + 1);
    // An unknown id is not found, and a decision through the store still works on the re-indexed row.
    expect(await store.get("00000000-0000-4000-8000-000000000000")).toBeUndefined();
    const stored = (await store.get(proposal.id))!;
    expect((await store.update(stored, { status: "rejected" })).proposal.status).toBe("rejected");
  });
});

describe("retention of the proposals table", () => {
  it("prunes decided and expired proposals after PROPOSAL_RETENTION_DAYS of no change, keeps pending ones, and their index rows 30 days longer (clock injected)", async () => {
    const { table, prefix } = await freshTable();
    const store = new ProposalStore(table);
    const decided = (await store.propose(fields(4), "k4")).proposal;
    await store.update((await store.get(decided.id))!, { status: "approved" });
    const expired = (await store.propose(fields(5), "k5")).proposal;
    await store.update((await store.get(expired.id))!, { status: "expired" });
    const pending = (await store.propose(fields(6), "k6")).proposal;
    const targets = (await retentionTargets({ connectionString: azurite.connectionString }, 1, prefix)).filter((t) => t.name.startsWith("proposal"));
    expect(targets.map((t) => t.name)).toEqual(["proposals (decided, expired)", "proposal id index"]);
    const now = Date.now();

    expect(await purgeStale(targets, new Date(now + (PROPOSAL_RETENTION_DAYS - 1) * DAY))).toEqual({ "proposals (decided, expired)": 0, "proposal id index": 0 });
    expect(await purgeStale(targets, new Date(now + (PROPOSAL_RETENTION_DAYS + 1) * DAY))).toEqual({ "proposals (decided, expired)": 2, "proposal id index": 0 });
    expect(await store.get(decided.id)).toBeUndefined();
    expect(await store.get(expired.id)).toBeUndefined();
    expect((await store.get(pending.id))?.proposal.status).toBe("pending");
    expect((await store.list()).map((p) => p.id)).toEqual([pending.id]);

    expect(await purgeStale(targets, new Date(now + (PROPOSAL_RETENTION_DAYS + 31) * DAY))).toEqual({ "proposals (decided, expired)": 0, "proposal id index": 3 });
    // A pending proposal that old cannot exist while the sweep runs (it expires them first); if one did, it is still found.
    expect((await store.get(pending.id))?.proposal.status).toBe("pending");
  });
});
