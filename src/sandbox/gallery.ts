import { readFile, mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { Alert } from "../alerts/alert.js";
import { renderEmail } from "../alerts/email.js";
import { inertAlert } from "../alerts/inert-alert.js";
import { alertCard } from "../alerts/teams-card.js";
import type { ReceivedEmail } from "./smtp-sink.js";
import type { ReceivedCard } from "./teams-receiver.js";

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** A single alert's card or a digest: digestCard's header says "amlguard: N alerts", alertCard's says severity · outcome. */
export type CardKind = "single" | "digest";

export function cardKind(card: unknown): CardKind {
  const first = (card as { body?: Array<{ text?: unknown }> }).body?.[0]?.text;
  return typeof first === "string" && first.startsWith("amlguard: ") ? "digest" : "single";
}

interface GalleryEmail {
  subject: string;
  from: string;
  to: string[];
  html: string;
  text: string;
  source: string;
}

/**
 * A self-contained HTML page showing what the sandbox receivers got: each Adaptive Card rendered by the adaptivecards
 * renderer (inlined, so the page works offline) and each email's HTML and plain-text bodies. With `alerts`, it also
 * shows each alert as the single card (and the first as the single email) a channel sends when at most three alerts
 * are due, rendered by the channel's own functions after the router's inert pass, so both card kinds are on the page.
 */
export async function writeGallery(path: string, cards: readonly ReceivedCard[], emails: readonly ReceivedEmail[], alerts: readonly Alert[] = []): Promise<void> {
  const renderer = await readFile(createRequire(import.meta.url).resolve("adaptivecards/dist/adaptivecards.min.js"), "utf8");
  const singles = alerts.map(inertAlert);
  const shown = [
    ...cards.map((c) => ({ kind: cardKind(c.card), source: "received by the Teams receiver", card: c.card })),
    ...singles.map((a) => ({ kind: "single" as const, source: "one alert on its own (three or fewer due)", card: alertCard(a) })),
  ];
  const example = singles.find((a) => a.undo) ?? singles[0];
  const mails: GalleryEmail[] = [
    ...emails.map((e) => ({ ...e, source: "received by the SMTP sink" })),
    ...(example ? [{ ...renderEmail([example]), from: "amlguard", to: ["(the email channel's recipients)"], source: "one alert on its own (three or fewer due)" }] : []),
  ];
  // JSON inside a <script> block: escape "<" so no card text can close the tag.
  const script = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");
  const undo = [...new Set(singles.flatMap((a) => (a.undo ? [a.undo] : [])))];
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>amlguard demo: alerts received</title>
<style>
body{font-family:Segoe UI,Arial,sans-serif;margin:2em;background:#f5f5f5}
.card{background:#fff;max-width:720px;margin:1em 0;padding:12px;border-radius:6px;box-shadow:0 1px 3px #0003}
.card>.kind{font-size:12px;color:#666;margin-bottom:6px}
.email{background:#fff;max-width:900px;margin:1em 0;padding:12px;border-radius:6px}
iframe{width:100%;height:520px;border:1px solid #ddd}
pre{white-space:pre;overflow-x:auto;background:#fafafa;padding:8px}
</style></head><body>
<h1>Alerts received by the sandbox</h1>
<h2>Microsoft Teams (Workflows webhook): ${shown.length} card(s)</h2>
<div id="cards"></div>
<h2>Email: ${mails.length} message(s)</h2>
${mails
  .map(
    (e, i) => `<div class="email" data-email="${i}"><h3>${escapeHtml(e.subject)}</h3><p>${escapeHtml(e.source)}: from ${escapeHtml(e.from)} to ${escapeHtml(e.to.join(", "))}</p>
<iframe sandbox="allow-same-origin" srcdoc="${escapeHtml(e.html)}"></iframe><details><summary>Plain text</summary><pre>${escapeHtml(e.text)}</pre></details></div>`,
  )
  .join("\n")}
<script>${renderer}</script>
<script>
const cards = ${script(shown)};
window.amlguardExpectedUndo = ${script(undo)};
// Teams renders card Markdown; the browser renderer needs a processor: escapes, **bold**, [links](https://...).
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
  const html = text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const links = html.replace(/(^|[^\\\\])\\[((?:\\\\.|[^\\]])*)\\]\\((https:[^)\\s]+)\\)/g, '$1<a href="$3">$2</a>');
  result.outputHtml = links.replace(/\\*\\*(.+?)\\*\\*/g, "<b>$1</b>").replace(/\\\\([\\\\\`*_\\[\\]<>])/g, "$1");
  result.didProcess = true;
};
const host = document.getElementById("cards");
for (const { kind, source, card: json } of cards) {
  const card = new AdaptiveCards.AdaptiveCard();
  card.parse(json);
  const wrapper = document.createElement("div");
  wrapper.className = "card";
  wrapper.dataset.kind = kind;
  const label = document.createElement("div");
  label.className = "kind";
  label.textContent = (kind === "digest" ? "Digest card, " : "Single card, ") + source;
  wrapper.appendChild(label);
  wrapper.appendChild(card.render());
  host.appendChild(wrapper);
}
document.body.dataset.rendered = String(host.querySelectorAll(".ac-adaptiveCard").length);
</script>
</body></html>
`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, page);
}
