import type { Alert } from "./alert.js";
import { factsOf, findingsOf, labelsOf, OUTCOME_LABEL, plural, summaryLine } from "./render.js";

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** Code in mail clients: no wrapping (white-space:pre), a horizontal scroll bar instead, a monospace font. */
const CODE_STYLE = "white-space:pre;overflow-x:auto;background:#f3f3f3;border:1px solid #ddd;padding:8px;font-family:Consolas,Menlo,'Courier New',monospace;font-size:13px";

/**
 * One email for one alert or a digest: the plain-text and HTML bodies carry the same content. The undo command is a
 * `<pre><code>` block in HTML and a line of its own in text, never wrapped or broken, so it pastes as is.
 */
export function renderEmail(alerts: readonly Alert[], portal?: string): RenderedEmail {
  const [first] = alerts;
  if (!first) throw new Error("no alerts to render");
  const subject =
    alerts.length === 1
      ? `[amlguard] ${first.severity.toUpperCase()} ${OUTCOME_LABEL[first.outcome]}: ${first.title} (${labelsOf(first.resourceId, portal).name})`
      : `[amlguard] ${plural(alerts.length, "alert")}: ${summaryLine(alerts)}`;
  const sections = alerts.map((alert) => ({
    heading: `${alert.severity.toUpperCase()} · ${OUTCOME_LABEL[alert.outcome]}: ${alert.title}`,
    rationale: alert.rationale,
    findings: findingsOf(alert),
    facts: factsOf(alert, portal),
    undo: alert.undo,
    links: [
      ...(alert.links ?? []),
      ...(alert.link ? [{ title: alert.link.title, url: alert.link.url }] : []),
      { title: "Open in Azure portal", url: labelsOf(alert.resourceId, portal).portalUrl },
    ],
  }));
  const text = sections
    .map((s) =>
      [
        s.heading,
        ...(s.rationale ? [s.rationale] : []),
        ...(s.findings.length ? ["Findings:", ...s.findings.map((f) => `- ${f.title} (${f.ruleId}, ${f.severity}): ${f.evidence}`)] : []),
        ...s.facts.map(([k, v]) => `${k}: ${v}`),
        ...(s.undo ? ["Undo (one line, paste as is):", s.undo] : []),
        ...s.links.map((l) => `${l.title}: ${l.url}`),
      ].join("\n"),
    )
    .join("\n\n----\n\n");
  const html = [
    `<!doctype html><html><body style="font-family:Segoe UI,Arial,sans-serif">`,
    ...sections.map(
      (s) =>
        `<h2>${escapeHtml(s.heading)}</h2>${s.rationale ? `<p>${escapeHtml(s.rationale)}</p>` : ""}` +
        (s.findings.length ? `<ul>${s.findings.map((f) => `<li><b>${escapeHtml(f.title)}</b> (${escapeHtml(f.ruleId)}, ${f.severity}): ${escapeHtml(f.evidence)}</li>`).join("")}</ul>` : "") +
        `<table>${s.facts.map(([k, v]) => `<tr><th align="left" valign="top">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>` +
        (s.undo ? `<p><b>Undo</b> (Azure CLI, one line):</p><pre class="undo" style="${CODE_STYLE}"><code>${escapeHtml(s.undo)}</code></pre>` : "") +
        `<p>${s.links.map((l) => `<a href="${escapeHtml(l.url)}">${escapeHtml(l.title)}</a>`).join(" · ")}</p>`,
    ),
    `</body></html>`,
  ].join("");
  return { subject: subject.slice(0, 250), text, html };
}
