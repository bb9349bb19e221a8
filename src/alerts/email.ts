import type { Alert } from "./alert.js";
import { factsOf, labelsOf, OUTCOME_LABEL, summaryLine } from "./render.js";

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** One email for one alert or a digest: the plain-text and HTML bodies carry the same content. */
export function renderEmail(alerts: readonly Alert[], portal?: string): RenderedEmail {
  const [first] = alerts;
  if (!first) throw new Error("no alerts to render");
  const subject =
    alerts.length === 1
      ? `[amlguard] ${first.severity.toUpperCase()} ${OUTCOME_LABEL[first.outcome]}: ${first.title} (${labelsOf(first.resourceId, portal).name})`
      : `[amlguard] ${alerts.length} alerts: ${summaryLine(alerts)}`;
  const sections = alerts.map((alert) => ({
    heading: `${alert.severity.toUpperCase()} · ${OUTCOME_LABEL[alert.outcome]}: ${alert.title}`,
    rationale: alert.rationale,
    facts: factsOf(alert, portal),
    link: alert.link?.url ?? labelsOf(alert.resourceId, portal).portalUrl,
    linkTitle: alert.link?.title ?? "Open in Azure portal",
  }));
  const text = sections
    .map((s) => [s.heading, ...(s.rationale ? [s.rationale] : []), ...s.facts.map(([k, v]) => `${k}: ${v}`), `${s.linkTitle}: ${s.link}`].join("\n"))
    .join("\n\n----\n\n");
  const html = [
    `<!doctype html><html><body style="font-family:Segoe UI,Arial,sans-serif">`,
    ...sections.map(
      (s) =>
        `<h2>${escapeHtml(s.heading)}</h2>${s.rationale ? `<p>${escapeHtml(s.rationale)}</p>` : ""}<table>${s.facts
          .map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
          .join("")}</table><p><a href="${escapeHtml(s.link)}">${escapeHtml(s.linkTitle)}</a></p>`,
    ),
    `</body></html>`,
  ].join("");
  return { subject: subject.slice(0, 250), text, html };
}
