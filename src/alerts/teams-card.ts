import type { Severity } from "../rules/rule.js";
import type { Alert } from "./alert.js";
import { factsOf, labelsOf, OUTCOME_LABEL, summaryLine } from "./render.js";

/** Teams rejects Workflows payloads over 28 KB. */
export const MAX_TEAMS_PAYLOAD_BYTES = 28 * 1024;

type Card = Record<string, unknown>;

const COLOR: Record<Severity, string> = { critical: "Attention", high: "Attention", medium: "Warning", low: "Default" };

/**
 * Adaptive Card text is Markdown: escape what a resource name, a claim or an exemption reason could use to forge
 * links or emphasis.
 */
export function escapeMarkdown(text: string): string {
  // Links need [..](..), emphasis * or _, code `, autolinks <..>: escaping these is enough, and keeps names readable.
  return text.replace(/([\\`*_[\]<>])/g, "\\$1");
}

function card(body: unknown[], actions: unknown[]): Card {
  return {
    type: "AdaptiveCard",
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    version: "1.5",
    msteams: { width: "Full" },
    body,
    actions,
  };
}

/** One alert: severity and outcome, the rule's title and rationale, the facts, and the portal link. */
export function alertCard(alert: Alert, portal?: string): Card {
  const labels = labelsOf(alert.resourceId, portal);
  return card(
    [
      { type: "TextBlock", text: `${alert.severity.toUpperCase()} · ${OUTCOME_LABEL[alert.outcome]}`, color: COLOR[alert.severity], weight: "Bolder", size: "Small", wrap: true },
      { type: "TextBlock", text: escapeMarkdown(alert.title), size: "Large", weight: "Bolder", wrap: true },
      ...(alert.rationale ? [{ type: "TextBlock", text: escapeMarkdown(alert.rationale), wrap: true, isSubtle: true }] : []),
      { type: "FactSet", facts: factsOf(alert, portal).map(([title, value]) => ({ title, value: escapeMarkdown(value) })) },
    ],
    [alert.link ? { type: "Action.OpenUrl", title: alert.link.title, url: alert.link.url } : { type: "Action.OpenUrl", title: "Open in Azure portal", url: labels.portalUrl }],
  );
}

/**
 * Many alerts at once (a deployment's burst, a sweep): one card, one line per alert, as many as fit under the size
 * limit, then a count of the rest.
 */
export function digestCard(alerts: readonly Alert[], portal?: string): Card {
  const header = [
    { type: "TextBlock", text: `amlguard: ${alerts.length} alerts`, size: "Large", weight: "Bolder", wrap: true },
    { type: "TextBlock", text: summaryLine(alerts), isSubtle: true, wrap: true },
  ];
  const line = (alert: Alert): unknown => {
    const labels = labelsOf(alert.resourceId, portal);
    const where = labels.workspace ? `${labels.workspace}/${labels.name}` : labels.name;
    return {
      type: "TextBlock",
      wrap: true,
      spacing: "Small",
      text: `**${alert.severity.toUpperCase()}** ${escapeMarkdown(OUTCOME_LABEL[alert.outcome])}: ${escapeMarkdown(alert.title)}, [${escapeMarkdown(where)}](${labels.portalUrl}) by ${escapeMarkdown(alert.actor?.name ?? alert.actor?.objectId ?? "unknown")}`,
    };
  };
  const order: Severity[] = ["critical", "high", "medium", "low"];
  const sorted = [...alerts].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity));
  let shown = sorted.length;
  for (;;) {
    const rest = sorted.length - shown;
    const body = [...header, ...sorted.slice(0, shown).map(line), ...(rest > 0 ? [{ type: "TextBlock", text: `…and ${rest} more: run \`amlguard audit\` for all.`, wrap: true, isSubtle: true }] : [])];
    const candidate = card(body, [{ type: "Action.OpenUrl", title: "Open Azure portal", url: portal ?? "https://portal.azure.com" }]);
    if (payloadBytes(candidate) <= MAX_TEAMS_PAYLOAD_BYTES || shown === 0) return candidate;
    shown = Math.max(0, Math.floor(shown * 0.8));
  }
}

/** The body a Teams Workflows webhook ("When a Teams webhook request is received") expects. */
export function teamsPayload(content: Card): Record<string, unknown> {
  return { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content }] };
}

export function payloadBytes(content: Card): number {
  return Buffer.byteLength(JSON.stringify(teamsPayload(content)));
}
