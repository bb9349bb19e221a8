import { parseMlResourceId } from "../arm/ids.js";
import { urlSegment } from "../shared/inert.js";
import type { Alert, AlertFinding, AlertOutcome } from "./alert.js";

export interface ResourceLabels {
  name: string;
  workspace?: string;
  subscription: string;
  resourceGroup: string;
  portalUrl: string;
}

/** Where the resource sits, for people: its name, workspace, subscription, and a portal deep link. */
export function labelsOf(resourceId: string, portal = "https://portal.azure.com"): ResourceLabels {
  // Each id segment percent-encoded: a ")" or space in a resource group name cannot break the Markdown link.
  const link = `${portal}/#resource/${resourceId.split("/").filter(Boolean).map(urlSegment).join("/")}/overview`;
  try {
    const id = parseMlResourceId(resourceId);
    const name = [...id.childNames].pop() ?? id.parentName;
    return {
      name: id.kind === "onlineDeployment" ? id.childNames.join("/") : name,
      ...(id.kind !== "workspace" && id.kind !== "registry" ? { workspace: id.parentName } : {}),
      subscription: id.subscriptionId,
      resourceGroup: id.resourceGroup,
      portalUrl: link,
    };
  } catch {
    return { name: resourceId.split("/").pop() ?? resourceId, subscription: resourceId.split("/")[2] ?? "?", resourceGroup: resourceId.split("/")[4] ?? "?", portalUrl: link };
  }
}

export const OUTCOME_LABEL: Record<AlertOutcome, string> = {
  remediated: "Remediated by amlguard",
  "dry-run": "Dry-run: amlguard would remediate",
  "needs-action": "Needs action",
  failed: "amlguard could not remediate",
};

export function actorText(alert: Alert): string {
  const actor = alert.actor;
  if (!actor) return "unknown";
  const who = actor.name ?? actor.objectId ?? actor.appId ?? "unknown";
  return actor.principalType ? `${who} (${actor.principalType})` : who;
}

/**
 * The facts shown for one alert, in order; shared by the card, the HTML and the plain-text email. The undo command is
 * not among them (each renderer shows it as code, see undoLines), nor are the findings of an alert that covers several
 * (findingsOf).
 */
export function factsOf(alert: Alert, portal?: string): Array<[string, string]> {
  const labels = labelsOf(alert.resourceId, portal);
  const facts: Array<[string, string]> = [
    ["Resource", labels.name],
    ...(labels.workspace ? ([["Workspace", labels.workspace]] as Array<[string, string]>) : []),
    ["Resource group", labels.resourceGroup],
    ["Subscription", labels.subscription],
    ["Changed by", actorText(alert)],
  ];
  const several = (alert.findings?.length ?? 0) > 1;
  if (alert.evidence && !several) facts.push(["Evidence", alert.evidence]);
  if (alert.actionTaken) facts.push(["amlguard did", alert.actionTaken]);
  if (alert.nextStep) facts.push(["Next step", alert.nextStep]);
  if (several) facts.push(["Rules", alert.findings!.map((f) => f.ruleId).join(", ")]);
  else if (alert.ruleId) facts.push(["Rule", alert.ruleId]);
  const compliance = complianceText(alert.compliance);
  if (compliance) facts.push(["Compliance", compliance]);
  if (alert.correlationId) facts.push(["Correlation id", alert.correlationId]);
  facts.push(["Time (UTC)", alert.at]);
  return facts;
}

/** "Azure Policy <guid> · MCSB NS-2 · CIS 6.4": whole ids, never shortened (people search for them). */
export function complianceText(compliance: Alert["compliance"]): string | undefined {
  if (!compliance) return undefined;
  const parts = [
    ...compliance.azurePolicy.map((guid) => `Azure Policy ${guid}`),
    ...(compliance.mcsb.length ? [`MCSB ${compliance.mcsb.join(", ")}`] : []),
    ...(compliance.cis.length ? [`CIS Azure ${compliance.cis.join(", ")}`] : []),
  ];
  return parts.length ? parts.join(" · ") : undefined;
}

export function summaryLine(alerts: readonly Alert[]): string {
  const counts = new Map<AlertOutcome, number>();
  for (const alert of alerts) counts.set(alert.outcome, (counts.get(alert.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(", ");
}

/** "1 alert", "3 alerts": counts in alert text agree with their noun. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** The findings an alert answers when it covers several rules (one action, several findings); none otherwise. */
export function findingsOf(alert: Alert): AlertFinding[] {
  return alert.findings && alert.findings.length > 1 ? alert.findings : [];
}

/**
 * An undo command laid out for a narrow, wrapping renderer: the command words on the first line, then one flag with
 * its value per line, each line but the last ending in a backslash (a shell line continuation). Pasted into bash, zsh
 * or Cloud Shell it is the same command; lines are short, so a narrow card wraps between flags, not inside one.
 * Quoted values stay whole.
 */
export function undoLines(command: string): string[] {
  const tokens = command.match(/(?:'[^']*'|"[^"]*"|[^\s'"])+/g) ?? [];
  const lines: string[] = [];
  for (const token of tokens) {
    if (lines.length === 0 || token.startsWith("--")) lines.push(token);
    else lines[lines.length - 1] += ` ${token}`;
  }
  return lines.map((line, i) => (i < lines.length - 1 ? `${line} \\` : line));
}
