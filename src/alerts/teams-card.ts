import type { Severity } from "../rules/rule.js";
import type { Alert } from "./alert.js";
import { factsOf, findingsOf, labelsOf, OUTCOME_LABEL, plural, summaryLine, undoLines } from "./render.js";

/** Teams rejects Workflows payloads over 28 KB. */
export const MAX_TEAMS_PAYLOAD_BYTES = 28 * 1024;

type Card = Record<string, unknown>;
type Element = Record<string, unknown>;

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
    ...(actions.length ? { actions } : {}),
  };
}

/**
 * The undo command as code: a shaded container of monospace lines, one flag per line with shell continuations
 * (undoLines). Teams' own CodeBlock element would scroll instead of wrapping, but the Adaptive Cards SDK (the
 * renderer and parser the sandbox and the gallery use) does not know it, and a card both can render is one a person
 * sees the same everywhere. `id` marks it for the gallery check.
 */
export function undoBlock(command: string, label = "Undo (Azure CLI; paste as is):"): Element[] {
  return [
    { type: "TextBlock", text: label, weight: "Bolder", size: "Small", wrap: true, spacing: "Small" },
    {
      type: "Container",
      style: "emphasis",
      spacing: "None",
      items: undoLines(command).map((line, i) => ({ type: "TextBlock", text: escapeMarkdown(line), fontType: "Monospace", wrap: true, spacing: i ? "None" : "Small" })),
    },
  ];
}

/** The findings of an alert that covers several rules: each rule's title, id, severity and evidence. */
function findingBlocks(alert: Alert): Element[] {
  return findingsOf(alert).flatMap((f) => [
    { type: "TextBlock", text: `**${escapeMarkdown(f.title)}** (${escapeMarkdown(f.ruleId)}, ${f.severity})`, wrap: true, spacing: "Small" },
    { type: "TextBlock", text: `Evidence: ${escapeMarkdown(f.evidence)}`, wrap: true, isSubtle: true, spacing: "None" },
  ]);
}

/**
 * One alert: severity and outcome, the rule's title and rationale, the findings it covers, the facts, the undo command
 * as code, and a link to the resource's own page in the portal (or a better link the alert carries).
 */
export function alertCard(alert: Alert, portal?: string): Card {
  const labels = labelsOf(alert.resourceId, portal);
  return card(
    [
      { type: "TextBlock", text: `${alert.severity.toUpperCase()} · ${OUTCOME_LABEL[alert.outcome]}`, color: COLOR[alert.severity], weight: "Bolder", size: "Small", wrap: true },
      { type: "TextBlock", text: escapeMarkdown(alert.title), size: "Large", weight: "Bolder", wrap: true },
      ...(alert.rationale ? [{ type: "TextBlock", text: escapeMarkdown(alert.rationale), wrap: true, isSubtle: true }] : []),
      ...findingBlocks(alert),
      { type: "FactSet", facts: factsOf(alert, portal).map(([title, value]) => ({ title, value: escapeMarkdown(value) })) },
      ...(alert.undo ? undoBlock(alert.undo) : []),
    ],
    [
      ...(alert.links ?? []).map(({ title, url }) => ({ type: "Action.OpenUrl", title, url })),
      ...(alert.link ? [{ type: "Action.OpenUrl", title: alert.link.title, url: alert.link.url }] : []),
      { type: "Action.OpenUrl", title: "Open in Azure portal", url: labels.portalUrl },
    ],
  );
}

/** One digest entry: the headline with a link to the resource; with `detail`, its evidence and undo command too. */
function digestEntry(alert: Alert, portal: string | undefined, detail: boolean): Element {
  const labels = labelsOf(alert.resourceId, portal);
  const where = labels.workspace ? `${labels.workspace}/${labels.name}` : labels.name;
  const who = alert.actor?.name ?? alert.actor?.objectId ?? "unknown";
  const headline = `**${alert.severity.toUpperCase()}** ${escapeMarkdown(OUTCOME_LABEL[alert.outcome])}: ${escapeMarkdown(alert.title)}, [${escapeMarkdown(where)}](${labels.portalUrl}) by ${escapeMarkdown(who)}`;
  const items: Element[] = [{ type: "TextBlock", text: headline, wrap: true }];
  if (detail) {
    const evidence = findingsOf(alert).length ? findingsOf(alert).map((f) => `${f.ruleId}: ${f.evidence}`).join("; ") : alert.evidence;
    if (evidence) items.push({ type: "TextBlock", text: `Evidence: ${escapeMarkdown(evidence)}`, wrap: true, isSubtle: true, size: "Small", spacing: "None" });
    if (alert.nextStep) items.push({ type: "TextBlock", text: `Next step: ${escapeMarkdown(alert.nextStep)}`, wrap: true, size: "Small", spacing: "None" });
    if (alert.undo) items.push(...undoBlock(alert.undo, "Undo:"));
  }
  return { type: "Container", separator: true, spacing: "Medium", items };
}

const ORDER: Severity[] = ["critical", "high", "medium", "low"];

/** However large the burst, this many entries (the most severe) keep their evidence and undo on the card. */
const ALWAYS_DETAILED = 5;

/**
 * Many alerts at once (a deployment's burst, a sweep): one card, one entry per alert, most severe first, each linking
 * to its resource. Within Teams' 28 KB the card shows as many entries as it can (the first few always with their
 * evidence, next step and undo command), then gives the rest of the room to details, most severe first; entries that
 * do not fit are counted, never dropped silently.
 */
export function digestCard(alerts: readonly Alert[], portal?: string): Card {
  const sorted = [...alerts].sort((a, b) => ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity));
  const header = [
    { type: "TextBlock", text: `amlguard: ${plural(alerts.length, "alert")}`, size: "Large", weight: "Bolder", wrap: true },
    { type: "TextBlock", text: summaryLine(alerts), isSubtle: true, wrap: true },
  ];
  const build = (detailed: number, shown: number): Card => {
    const notes: Element[] = [];
    if (detailed < shown) {
      const which = detailed === 0 ? "Entries show" : `The last ${plural(shown - detailed, "entry", "entries")} show`;
      notes.push({ type: "TextBlock", text: `${which} only their headline (a Teams card holds 28 KB): each links to its resource; \`amlguard audit --json\` has every undo command.`, wrap: true, isSubtle: true });
    }
    if (shown < sorted.length) notes.push({ type: "TextBlock", text: `…and ${sorted.length - shown} more: run \`amlguard audit\` for all.`, wrap: true, isSubtle: true });
    return card([...header, ...sorted.slice(0, shown).map((alert, i) => digestEntry(alert, portal, i < detailed)), ...notes], []);
  };
  const fits = (detailed: number, shown: number) => payloadBytes(build(Math.min(detailed, shown), shown)) <= MAX_TEAMS_PAYLOAD_BYTES;
  const shown = largest(sorted.length, (n) => fits(ALWAYS_DETAILED, n));
  const detailed = largest(shown, (k) => fits(k, shown));
  return build(detailed, shown);
}

/** The largest n in [0, max] for which `ok` holds, given that it holds for every n below one that does (0 always). */
function largest(max: number, ok: (n: number) => boolean): number {
  let low = 0;
  let high = max;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (ok(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The body a Teams Workflows webhook ("When a Teams webhook request is received") expects. */
export function teamsPayload(content: Card): Record<string, unknown> {
  return { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content }] };
}

export function payloadBytes(content: Card): number {
  return Buffer.byteLength(JSON.stringify(teamsPayload(content)));
}
