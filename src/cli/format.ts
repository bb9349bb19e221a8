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

/**
 * A table column. Identifiers and values an operator acts on are never cut: `whole` cells are shown in full (an
 * identifier), `words` cells wrap at spaces and `path` cells also after '/', never inside a word. When even that does
 * not fit the terminal, columns with a `drop` rank are left out, lowest rank first (README: CLI), and a note says so;
 * a word longer than its column runs past the edge rather than being cut. Piped output is never wrapped or dropped.
 */
export interface Column {
  header: string;
  wrap?: "whole" | "words" | "path";
  drop?: number;
}

export function table(columns: readonly Column[], rows: readonly string[][], width: number): string {
  const cells = (c: number): string[] => rows.map((r) => r[c] ?? "");
  const natural = columns.map((col, c) => Math.max(col.header.length, ...cells(c).map((cell) => cell.length)));
  if (!Number.isFinite(width)) return render(columns.map((_, c) => c), natural, columns, rows, []);
  const least = columns.map((col, c) =>
    col.wrap === "words" || col.wrap === "path"
      ? Math.max(...segments(col.header, "words").map((s) => s.trimEnd().length), ...cells(c).flatMap((cell) => segments(cell, col.wrap!).map((s) => s.trimEnd().length)))
      : natural[c]!,
  );
  let visible = columns.map((_, c) => c);
  const needed = (): number => visible.reduce((sum, c) => sum + least[c]!, 0) + 2 * (visible.length - 1);
  const dropped: number[] = [];
  while (needed() > width) {
    const candidates = visible.filter((c) => columns[c]!.drop !== undefined).sort((a, b) => columns[a]!.drop! - columns[b]!.drop!);
    if (candidates.length === 0) break;
    dropped.push(candidates[0]!);
    visible = visible.filter((c) => c !== candidates[0]);
  }
  const widths = [...least];
  let spare = width - needed();
  while (spare > 0) {
    // One column at a time, to the one furthest from its natural width: prose gets room before it wraps again.
    const short = visible.filter((c) => widths[c]! < natural[c]!).sort((a, b) => natural[b]! - widths[b]! - (natural[a]! - widths[a]!))[0];
    if (short === undefined) break;
    widths[short]! += 1;
    spare -= 1;
  }
  return render(visible, widths, columns, rows, dropped);
}

function render(visible: number[], widths: number[], columns: readonly Column[], rows: readonly string[][], dropped: number[]): string {
  const line = (cells: readonly string[]): string[] => {
    const wrapped = visible.map((c) => wrap(cells[c] ?? "", widths[c]!, columns[c]!.wrap ?? "whole"));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, i) => wrapped.map((w, j) => (w[i] ?? "").padEnd(widths[visible[j]!]!)).join("  ").trimEnd());
  };
  const out = [...line(columns.map((c) => c.header)), ...rows.flatMap(line)];
  if (dropped.length) {
    const names = dropped.map((c) => columns[c]!.header).join(", ");
    out.push(`(${names} left out to fit the terminal: widen it, pipe the output or use --json)`);
  }
  return out.join("\n");
}

/** Break opportunities: after spaces (words), and after '/' too (paths); each piece keeps its trailing separator. */
function segments(text: string, mode: "whole" | "words" | "path"): string[] {
  if (mode === "whole") return [text];
  return text.match(mode === "path" ? /[^ /]*(?:[ /]+|$)/g : /[^ ]*(?: +|$)/g)?.filter(Boolean) ?? [text];
}

function wrap(text: string, width: number, mode: "whole" | "words" | "path"): string[] {
  if (mode === "whole" || text.length <= width) return [text];
  const lines: string[] = [];
  let current = "";
  for (const piece of segments(text, mode)) {
    if (current && (current + piece).trimEnd().length > width) {
      lines.push(current.trimEnd());
      current = "";
    }
    current += piece;
  }
  if (current) lines.push(current.trimEnd());
  return lines;
}

/** Findings, most severe first; the evidence column takes what is left of the terminal. */
export function findingsTable(findings: readonly Finding[], columns = 100): string {
  if (findings.length === 0) return "No findings.";
  const rows = sortFindings(findings).map((f) => [f.severity.toUpperCase(), f.ruleId, shortName(f.resourceId), f.evidence.summary]);
  return table([{ header: "SEVERITY", drop: 1 }, { header: "RULE" }, { header: "RESOURCE", wrap: "path" }, { header: "EVIDENCE", wrap: "words", drop: 2 }], rows, columns);
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
      { header: "CAUSED BY", wrap: "words", drop: 2 },
      { header: "CHANGE / REASON", wrap: "words", drop: 3 },
    ],
    rows,
    columns,
  );
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
    table([{ header: "FINDINGS" }, { header: "RULE" }], count((f) => f.ruleId), columns),
    "",
    table([{ header: "FINDINGS" }, { header: "SUBSCRIPTION" }], count((f) => f.resourceId.split("/")[2] ?? "?"), columns),
  ].join("\n");
}

export function severitySummary(findings: readonly Finding[]): string {
  const parts = SEVERITY_ORDER.map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return `${findings.length} finding(s)${parts.length ? `: ${parts.join(", ")}` : ""}`;
}
