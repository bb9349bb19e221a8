import type { DemoResult } from "../demo.js";
import { DEMO_MODE_REASONS, DEMO_SETTINGS, DEMO_USER } from "../demo/settings.js";
import { alertAccount, countBy, fatesAfterEvents, modesInForce, outcomeOf, type FindingFate, type StoryInput } from "../demo/story.js";
import type { AuditRecord } from "../state/audit.js";
import { auditTable, changeText, countsLine, findingsTable, plural, severitySummary, shortName } from "./format.js";

/** What the demo's numbers are computed from (src/demo/story.ts). */
export function storyInput(result: DemoResult): StoryInput {
  return {
    settings: DEMO_SETTINGS,
    channels: result.channels,
    findings: result.scan.findings,
    userActions: result.userActions,
    deliveries: result.deliveries,
    audit: result.audit,
    alerts: result.alerts,
    suppressed: result.suppressed,
    outbox: result.outbox,
    messages: { teams: result.received.teamsCards.length, email: result.received.emails.length },
  };
}

const FIX_TEXT: Record<string, string> = {
  "disable-public-network-access": "sets publicNetworkAccess to Disabled",
  "contain-compute": "stops the instance or caps the cluster at 0 nodes (network settings are create-only)",
  "add-traffic-log-setting": "adds the traffic-log diagnostic setting",
};

const WHY: Record<string, string> = {
  alerted: "a person decides: mode alert, no automatic fix, or a compute already contained (recreate it)",
  exempt: "an approved exemption covers it",
  off: "the rule's mode is off",
  untouched: "no event touched it (nobody changed the resource): the daily sweep's job",
  remediated: "fixed by amlguard (mode remediate)",
};

/** The demo as one story, every count computed from the audit trail, the deliveries and the outbox. */
export function printStory(out: (text?: string) => void, result: DemoResult, columns: number): void {
  const input = storyInput(result);
  const total = Object.values(result.scan.resourceCounts).reduce((a, b) => a + b, 0);
  const subscriptions = new Set(result.scan.findings.map((f) => f.resourceId.split("/")[2]!.toLowerCase()));
  out(`amlguard demo on the embedded Azure sandbox (ARM at ${result.armEndpoint}; nothing reaches Azure)`);
  out();
  out(`1. The estate as found: ${plural(total, "resource")} in ${plural(subscriptions.size, "subscription")}, from one Azure Resource Graph query`);
  out(`   ${countsLine(result.scan.resourceCounts)}`);
  out(findingsTable(result.scan.findings, columns));
  out(`   ${severitySummary(result.scan.findings)}`);
  out();

  const modes = modesInForce(DEMO_SETTINGS);
  out("2. The modes in force");
  out(`   Default mode: ${modes.defaultMode} (also the deployed default: amlguard writes nothing until a rule is set to remediate)`);
  for (const { mode, rules } of modes.byMode) {
    const overrides = rules.filter((r) => r.override);
    const why = mode === modes.defaultMode ? "the default" : `set for this demo: ${DEMO_MODE_REASONS[mode] ?? "an override"}`;
    out(`   ${mode} (${plural(rules.length, "rule")}; ${why}):`);
    if (mode === "remediate") for (const rule of rules) out(`     ${rule.id}: ${rule.fix ? FIX_TEXT[rule.fix] ?? rule.fix : "no automatic fix: alerts"}`);
    else out(`     ${(overrides.length ? overrides : rules).map((rule) => rule.id).join(", ")}`);
  }
  out(`   As app settings: ${Object.entries(modes.appSettings).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  out(`   Alert channels: ${result.channels.map((c) => `${c.label} from ${c.minSeverity} severity up (deployed default ${c.deployedDefault})`).join("; ")}`);
  out();

  out(`3. What ${DEMO_USER.name} changed, and what each change triggered (ARM → Event Grid → the real handler)`);
  const userDeliveries = result.deliveries.filter((d) => d.cause === "user-change");
  result.userActions.forEach((action, i) => {
    out(`   ${String.fromCharCode(97 + i)}. ${action.who} ${action.what}`);
    const rows = action.writes
      ? userDeliveries.filter((d) => d.resourceId.toLowerCase() === action.resourceId.toLowerCase()).flatMap((d) => d.rows)
      : result.audit.filter((r) => r.trigger.startsWith("cli:") && r.resourceId?.toLowerCase() === action.resourceId.toLowerCase());
    for (const line of decisionLines(rows)) out(`      ${line}`);
  });
  for (const d of result.deliveries.filter((x) => x.cause === "redelivery")) {
    out(`   Event Grid delivered the event about ${shortName(d.resourceId)} again (at-least-once): ${outcomeOf(d.rows)}; ${d.rows.length ? "read again, nothing written twice" : "nothing recorded"}.`);
  }
  const own = result.deliveries.filter((d) => d.cause === "own-write" && d.phase === "events");
  out(`   amlguard's own writes came back as ${plural(own.length, "event")}: ${outcomeCounts(own)} (never remediated again; "ignored": not a write amlguard evaluates, such as a stop)`);
  out();

  const fates = fatesAfterEvents(input);
  out(`4. After the events: the ${plural(fates.length, "finding")} as found, and why each open one is still open`);
  for (const [decision, count] of countBy(fates, (f) => f.decision)) {
    out(`   ${decision} (${count}): ${WHY[decision] ?? decision}`);
    if (decision !== "remediated") out(`     ${fateList(fates.filter((f) => f.decision === decision))}`);
  }
  out();

  const sweepRows = result.audit.filter((r) => r.trigger === "sweep" && r.decision !== "swept");
  out(`5. The daily sweep (a timer, 03:00 UTC by default; run now through its real handler${result.sweepCorrelationId ? `, correlation id ${result.sweepCorrelationId}` : ""})`);
  out(`   It reads the estate through Resource Graph and puts every finding through the same pipeline: ${plural(sweepRows.length, "decision")}.`);
  out(auditTable(sweepRows, columns));
  for (const line of decisionLines(sweepRows.filter((r) => r.decision === "remediated"))) out(`   ${line}`);
  const sweepOwn = result.deliveries.filter((d) => d.phase === "sweep");
  out(`   The sweep's own writes came back as ${plural(sweepOwn.length, "event")}: ${outcomeCounts(sweepOwn)}.`);
  out(`   Still open after the sweep: ${countBy(sweepRows.filter((r) => !["remediated", "compliant"].includes(r.decision)), (r) => r.decision).map(([d, n]) => `${n} ${d} (${WHY[d] ?? d})`).join("; ") || "nothing"}.`);
  out();

  const alerts = alertAccount(input);
  out(`6. Alerts: ${plural(alerts.raised, "alert")} raised (${alerts.bySeverity.map(([s, n]) => `${n} ${s}`).join(", ")}); per channel, raised = queued + suppressed (the same alert already queued for that channel within the dedupe window) + below its minimum severity`);
  for (const c of alerts.channels) {
    out(`   ${c.label}, minimum severity ${c.minSeverity}: ${alerts.raised} = ${c.queued} queued + ${c.suppressed} suppressed + ${c.belowMinimum} below ${c.minSeverity}; ` +
      `${c.delivered} delivered in ${plural(c.messages, "message")}${c.notDelivered ? `, ${c.notDelivered} waiting for a retry (the channel refused the last round; amlguard alerts pending --sandbox lists them)` : ""}`);
  }
  out(`   Rendered cards and emails: ${result.galleryPath}`);
  out();

  out("7. Summary: every number from the audit trail and the outbox");
  out(`   ${plural(result.deliveries.length, "delivery", "deliveries")} to the Event Grid handler = ${outcomeCounts(result.deliveries)}`);
  out(`   ${plural(result.audit.length, "audit row")} = ${countBy(result.audit, (r) => r.decision).map(([d, n]) => `${n} ${d}`).join(" + ")}`);
  out(`   ${plural(alerts.raised, "alert")} raised; ` +
    alerts.channels.map((c) => `${c.name}: ${c.delivered} delivered + ${c.notDelivered} waiting + ${c.suppressed} suppressed + ${c.belowMinimum} below ${c.minSeverity}`).join("; "));
}

/** One line per decision, the change it made, and each undo once per action. */
function decisionLines(rows: readonly AuditRecord[]): string[] {
  const lines: string[] = [];
  const undone = new Set<string>();
  for (const r of rows) {
    const what = r.ruleId ? `${r.ruleId} on ${r.resourceId ? shortName(r.resourceId) : "-"}` : r.resourceId ? shortName(r.resourceId) : "";
    lines.push(`${r.decision}: ${what}${what ? ": " : ""}${changeText(r) ?? r.message}`);
    if (r.undo && !undone.has(r.undo)) {
      undone.add(r.undo);
      lines.push(`  undo: ${r.undo}`);
    }
  }
  return lines.length ? lines : ["nothing recorded"];
}

function outcomeCounts(deliveries: ReadonlyArray<{ rows: AuditRecord[] }>): string {
  return countBy(deliveries, (d) => outcomeOf(d.rows)).map(([o, n]) => `${n} ${o}`).join(" + ") || "none";
}

function fateList(fates: readonly FindingFate[]): string {
  return fates.map((f) => `${f.finding.ruleId} on ${shortName(f.finding.resourceId)}`).join(", ");
}
