import { inertLine } from "../shared/inert.js";
import type { SimulationResult, StepReport } from "./runner.js";

/**
 * The readable per-step summary. Columns are as wide as their content and ids come last, whole: a table never cuts
 * an identifier (lines may be long; pipe to `less -S` to scroll).
 */
export function renderSimulation(result: SimulationResult): string {
  const lines: string[] = [`${inertCell(result.description)}`, `clock starts ${result.startedAt}`, ""];
  for (const step of result.steps) lines.push(...renderStep(step), "");
  lines.push("Final resources:");
  for (const [id, resource] of Object.entries(result.resources)) {
    const pna = resource && typeof resource.properties === "object" && resource.properties !== null ? (resource.properties as Record<string, unknown>).publicNetworkAccess : undefined;
    lines.push(`  ${resource ? "present" : "deleted"}${typeof pna === "string" ? `  publicNetworkAccess=${pna}` : ""}  ${id}`);
  }
  return lines.join("\n");
}

function renderStep(step: StepReport): string[] {
  const lines = [`Step ${step.step}: ${headline(step)}`];
  if (step.note) lines.push(`  ${inertCell(step.note)}`);
  if (step.http) lines.push(`  HTTP ${step.http.status}${errorText(step.http.body)}`);
  if (step.exemption) lines.push(`  result ${step.exemption.status}${errorText(step.exemption.body)}`);
  lines.push(`  ${step.eventsDelivered} event deliveries; ${step.decisions.length} decisions, ${step.writes.length} writes by amlguard, ${step.alerts.length} alerts delivered`);
  if (step.decisions.length) lines.push(...table(["decision", "rule", "resource"], step.decisions.map((d) => [d.decision, d.ruleId ?? "-", d.resourceId ?? "-"])));
  if (step.writes.length) lines.push(...table(["write", "status", "id"], step.writes.map((w) => [w.method, String(w.status), w.id])));
  if (step.alerts.length) lines.push(...table(["severity", "outcome", "title", "resource"], step.alerts.map((a) => [a.severity, a.outcome, a.title, a.resourceId])));
  for (const error of step.errors) lines.push(`  error: ${inertCell(error)}`);
  return lines;
}

function headline(step: StepReport): string {
  const who = step.as ? ` as ${step.as}` : "";
  switch (step.kind) {
    case "arm":
      return step.arm && step.arm.status === 0 ? `ARM write${who}, held until amlguard's next write to it` : `ARM${who}: ${step.arm?.status ?? "?"}${step.arm?.operation ? ` (operation ${step.arm.operation})` : ""}${step.arm?.error ? ` ${step.arm.error.code}: ${inertCell(step.arm.error.message)}` : ""}`;
    case "http":
      return `HTTP call${who}`;
    case "exemptions":
      return `exemption${who}`;
    case "sweep":
      return "reconciliation sweep";
    case "advance":
      return "clock advanced";
    case "fault":
      return "Azure misbehaves (sandbox fault)";
    case "job":
      return step.job ? `job submitted: ${step.job.started} node(s) started, ${step.job.queued} queued` : "job submitted";
  }
}

function errorText(body: unknown): string {
  const error = typeof body === "object" && body !== null ? (body as { error?: { code?: unknown; message?: unknown } }).error : undefined;
  return error ? ` ${inertCell(String(error.code))}: ${inertCell(String(error.message))}` : "";
}

/** Text from outside (names, tags, messages) printed to a terminal: no escape sequences or extra lines, never cut. */
function inertCell(text: string): string {
  return inertLine(text, Number.POSITIVE_INFINITY);
}

/** Left-aligned columns sized to their content; nothing is cut. */
function table(headers: string[], rows: string[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map(inertCell))];
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  return cells.map((row) => `  ${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ")}`.trimEnd());
}
