import { readFile, mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { ReceivedEmail } from "./smtp-sink.js";
import type { ReceivedCard } from "./teams-receiver.js";

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * A self-contained HTML page showing what the sandbox receivers got: each Adaptive Card rendered by the adaptivecards
 * renderer (inlined, so the page works offline) and each email's HTML and plain-text bodies.
 */
export async function writeGallery(path: string, cards: readonly ReceivedCard[], emails: readonly ReceivedEmail[]): Promise<void> {
  const renderer = await readFile(createRequire(import.meta.url).resolve("adaptivecards/dist/adaptivecards.min.js"), "utf8");
  // JSON inside a <script> block: escape "<" so no card text can close the tag.
  const cardsJson = JSON.stringify(cards.map((c) => c.card)).replace(/</g, "\\u003c");
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>amlguard demo: alerts received</title>
<style>
body{font-family:Segoe UI,Arial,sans-serif;margin:2em;background:#f5f5f5}
.card{background:#fff;max-width:720px;margin:1em 0;padding:12px;border-radius:6px;box-shadow:0 1px 3px #0003}
.email{background:#fff;max-width:900px;margin:1em 0;padding:12px;border-radius:6px}
iframe{width:100%;height:420px;border:1px solid #ddd}
pre{white-space:pre-wrap;background:#fafafa;padding:8px}
</style></head><body>
<h1>Alerts received by the sandbox</h1>
<h2>Microsoft Teams (Workflows webhook): ${cards.length} card(s)</h2>
<div id="cards"></div>
<h2>Email (SMTP sink): ${emails.length} message(s)</h2>
${emails
  .map(
    (e, i) => `<div class="email" data-email="${i}"><h3>${escapeHtml(e.subject)}</h3><p>From ${escapeHtml(e.from)} to ${escapeHtml(e.to.join(", "))}</p>
<iframe sandbox srcdoc="${escapeHtml(e.html)}"></iframe><details><summary>Plain text</summary><pre>${escapeHtml(e.text)}</pre></details></div>`,
  )
  .join("\n")}
<script>${renderer}</script>
<script>
const cards = ${cardsJson};
// Teams renders card Markdown; the browser renderer needs a processor: escapes, **bold**, [links](https://...).
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
  const html = text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const links = html.replace(/(^|[^\\\\])\\[((?:\\\\.|[^\\]])*)\\]\\((https:[^)\\s]+)\\)/g, '$1<a href="$3">$2</a>');
  result.outputHtml = links.replace(/\\*\\*(.+?)\\*\\*/g, "<b>$1</b>").replace(/\\\\([\\\\\`*_\\[\\]<>])/g, "$1");
  result.didProcess = true;
};
const host = document.getElementById("cards");
for (const json of cards) {
  const card = new AdaptiveCards.AdaptiveCard();
  card.parse(json);
  const wrapper = document.createElement("div");
  wrapper.className = "card";
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
