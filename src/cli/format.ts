import type { MlResourceKind } from "../arm/resource.js";
import type { Finding } from "../rules/index.js";
import type { AuditRecord } from "../state/audit.js";
import { SEVERITY_ORDER } from "../rules/rule.js";

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

/** Columns sized to their content, the last one cut to fit `columns` (unlimited when piped). */
export function table(headers: string[], rows: string[][], columns: number, maxWidths: number[] = []): string {
  const fixedCount = headers.length - 1;
  const fixed = headers.slice(0, fixedCount).map((h, c) => Math.min(Math.max(h.length, ...rows.map((r) => r[c]!.length)), maxWidths[c] ?? 40));
  const last = Math.max(20, columns - fixed.reduce((a, b) => a + b, 0) - 2 * fixedCount);
  const widths = [...fixed, last];
  const line = (cells: string[]): string => cells.map((cell, i) => fit(cell, widths[i]!)).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

function fit(text: string, width: number): string {
  if (!Number.isFinite(width)) return text;
  if (text.length <= width) return text.padEnd(width);
  return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

/** Findings, most severe first; the evidence column takes what is left of the terminal. */
export function findingsTable(findings: readonly Finding[], columns = 100): string {
  if (findings.length === 0) return "No findings.";
  const rows = sortFindings(findings).map((f) => [f.severity.toUpperCase(), f.ruleId, shortName(f.resourceId), f.evidence.summary]);
  return table(["SEVERITY", "RULE", "RESOURCE", "EVIDENCE"], rows, columns, [8, 36, 40]);
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
  return table(["TIME", "DECISION", "RULE", "RESOURCE", "CAUSED BY", "CHANGE / REASON"], rows, columns, [8, 17, 34, 34, 28]);
}

function changeText(record: AuditRecord): string | undefined {
  if (!record.before || !record.after) return undefined;
  return Object.keys(record.after)
    .map((path) => `${path.split(".").pop()}: ${JSON.stringify(record.before?.[path] ?? null)} -> ${JSON.stringify(record.after?.[path])}`)
    .join("; ");
}

export function countsLine(counts: Record<MlResourceKind, number>): string {
  return `${counts.workspace} workspaces, ${counts.registry} registries, ${counts.compute} computes, ` +
    `${counts.onlineEndpoint} online endpoints, ${counts.onlineDeployment} deployments`;
}

/** Findings counted by rule and by subscription: where to look first. */
export function summaryTables(findings: readonly Finding[], columns: number): string {
  const count = (key: (f: Finding) => string): string[][] => {
    const counts = new Map<string, number>();
    for (const f of findings) counts.set(key(f), (counts.get(key(f)) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [String(n), k]);
  };
  return [
    table(["FINDINGS", "RULE"], count((f) => f.ruleId), columns, [8]),
    "",
    table(["FINDINGS", "SUBSCRIPTION"], count((f) => f.resourceId.split("/")[2] ?? "?"), columns, [8]),
  ].join("\n");
}

export function severitySummary(findings: readonly Finding[]): string {
  const parts = SEVERITY_ORDER.map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return `${findings.length} finding(s)${parts.length ? `: ${parts.join(", ")}` : ""}`;
}
