import type { MlResourceKind } from "../arm/resource.js";
import type { Finding } from "../rules/index.js";
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

function fit(text: string, width: number): string {
  if (!Number.isFinite(width)) return text;
  if (text.length <= width) return text.padEnd(width);
  return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

/** A table that fits `columns` characters: the evidence column takes what is left and is cut with an ellipsis. */
export function findingsTable(findings: readonly Finding[], columns = 100): string {
  if (findings.length === 0) return "No findings.";
  const rows = sortFindings(findings).map((f) => [f.severity.toUpperCase(), f.ruleId, shortName(f.resourceId), f.evidence.summary]);
  const headers = ["SEVERITY", "RULE", "RESOURCE", "EVIDENCE"];
  const fixed = [0, 1, 2].map((c) => Math.min(Math.max(headers[c]!.length, ...rows.map((r) => r[c]!.length)), c === 2 ? 40 : 36));
  const evidenceWidth = Math.max(20, columns - fixed.reduce((a, b) => a + b, 0) - 6);
  const widths = [...fixed, evidenceWidth];
  const line = (cells: string[]): string => cells.map((cell, i) => fit(cell, widths[i]!)).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function countsLine(counts: Record<MlResourceKind, number>): string {
  return `${counts.workspace} workspaces, ${counts.registry} registries, ${counts.compute} computes, ` +
    `${counts.onlineEndpoint} online endpoints, ${counts.onlineDeployment} deployments`;
}

export function severitySummary(findings: readonly Finding[]): string {
  const parts = SEVERITY_ORDER.map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return `${findings.length} finding(s)${parts.length ? `: ${parts.join(", ")}` : ""}`;
}
