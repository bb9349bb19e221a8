import { createHash } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import { claimRow } from "../state/claim.js";
import type { Alert } from "./alert.js";

/**
 * Suppresses the same alert (resource, rule, outcome, evidence) seen again within a window, across instances:
 * a conditional insert per key, re-armed with its ETag once the window has passed.
 */
export class AlertDedupe {
  constructor(
    private readonly table: TableClient,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async firstInWindow(alert: Alert): Promise<boolean> {
    const key = createHash("sha256")
      .update(alert.dedupeKey ?? [alert.resourceId.toLowerCase(), alert.ruleId ?? "", alert.outcome, alert.evidence ?? ""].join("|"))
      .digest("hex")
      .slice(0, 40);
    const result = await claimRow<{ at: string }>(
      this.table,
      { partitionKey: key, rowKey: "seen" },
      () => ({ at: new Date(this.now()).toISOString() }),
      (existing) => this.now() - Date.parse(existing.at) >= this.windowMs,
    );
    return result.held;
  }
}
