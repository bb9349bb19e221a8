import type { MlResourceKind } from "../arm/resource.js";
import type { Finding } from "../rules/index.js";
import type { AuditRecord } from "../state/audit.js";
import { SEVERITY_ORDER } from "../rules/rule.js";
import { table as layout, type Column } from "./table.js";

export { fitLine, type Column } from "./table.js";

/**
 * A table (src/cli/table.ts). Given plain headers, every column is an identifier kept whole except the last, which
 * wraps as prose and moves under its row on a narrow terminal; widths once passed as caps are ignored (nothing is cut).
 */
export function table(columns: readonly Column[] | readonly string[], rows: readonly string[][], width: number, _maxWidths?: readonly number[]): string {
  const spec = columns.map((column, i): Column =>
    typeof column === "string" ? (i === columns.length - 1 && i > 0 ? { header: column, wrap: "words", below: 1 } : { header: column }) : column,
  );
  return layout(spec, rows, width);
}

/** "workspace/compute" style name: what an operator recognises, short enough for a terminal row. */
export function shortName(resourceId: string): string {
  const segments = resourceId.split("/");
  const providerIndex = segments.findIndex((s) => s.toLowerCase() === "providers");
  return segments.slice(providerIndex + 3).filter((_, i) => i % 2 === 0).join("/");
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      a.resourceId.localeCompare(b.resourceId) ||
      a.ruleId.localeCompare(b.ruleId),
  );
}

/** Findings, most severe first; on a narrow terminal the evidence goes under its row. */
export function findingsTable(findings: readonly Finding[], columns = 100): string {
  if (findings.length === 0) return "No findings.";
  const rows = sortFindings(findings).map((f) => [f.severity.toUpperCase(), f.ruleId, shortName(f.resourceId), f.evidence.summary]);
  return table([{ header: "SEVERITY", drop: 1 }, { header: "RULE" }, { header: "RESOURCE", wrap: "path" }, { header: "EVIDENCE", wrap: "words", below: 1 }], rows, columns);
}

/** The audit trail, oldest first: what happened, to what, caused by whom, and what changed. */
export function auditTable(records: readonly AuditRecord[], columns = 100): string {
  if (records.length === 0) return "No audit records.";
  const rows = [...records]
    .sort((a, b) => a.at.localeCompare(b.at))
    .map((r) => [
      r.at.slice(11, 19),
      r.decision,
      r.ruleId ?? "-",
      r.resourceId ? shortName(r.resourceId) || r.resourceId.slice(0, 40) : "-",
      r.actor?.name ?? r.actor?.objectId ?? "-",
      changeText(r) ?? r.message,
    ]);
  return table(
    [
      { header: "TIME", drop: 1 },
      { header: "DECISION" },
      { header: "RULE" },
      { header: "RESOURCE", wrap: "path" },
      { header: "CAUSED BY", wrap: "words", below: 2 },
      { header: "CHANGE / REASON", wrap: "words", below: 1 },
    ],
    rows,
    columns,
  );
}

export function changeText(record: AuditRecord): string | undefined {
  if (!record.before || !record.after) return undefined;
  return Object.keys(record.after)
    .map((path) => `${path.split(".").pop()}: ${JSON.stringify(record.before?.[path] ?? null)} -> ${JSON.stringify(record.after?.[path])}`)
    .join("; ");
}

export function countsLine(counts: Record<MlResourceKind, number>): string {
  return [
    plural(counts.workspace, "workspace"),
    plural(counts.registry, "registry", "registries"),
    plural(counts.compute, "compute"),
    plural(counts.onlineEndpoint, "online endpoint"),
    plural(counts.onlineDeployment, "deployment"),
  ].join(", ");
}

/** "1 registry", "2 registries": counts read as English. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Findings counted by rule and by subscription: where to look first. */
export function summaryTables(findings: readonly Finding[], columns: number): string {
  const count = (key: (f: Finding) => string): string[][] => {
    const counts = new Map<string, number>();
    for (const f of findings) counts.set(key(f), (counts.get(key(f)) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [String(n), k]);
  };
  return [
    table([{ header: "FINDINGS" }, { header: "RULE" }], count((f) => f.ruleId), columns),
    "",
    table([{ header: "FINDINGS" }, { header: "SUBSCRIPTION" }], count((f) => f.resourceId.split("/")[2] ?? "?"), columns),
  ].join("\n");
}

export function severitySummary(findings: readonly Finding[]): string {
  const parts = SEVERITY_ORDER.map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return `${plural(findings.length, "finding")}${parts.length ? `: ${parts.join(", ")}` : ""}`;
}
