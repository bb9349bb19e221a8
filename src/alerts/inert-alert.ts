import { inertLine, inertText } from "../shared/inert.js";
import type { Alert } from "./alert.js";

/**
 * Every alert passes here on its way to people: fields that can carry outside text (evidence from logs and tags,
 * names, claims) lose control characters and length; free text also loses clickable URLs. Commands (undo) keep their
 * characters so they still paste, but no control character survives.
 */
export function inertAlert(alert: Alert): Alert {
  const text = (value: string | undefined, max: number) => (value === undefined ? undefined : inertText(value, max));
  const line = (value: string | undefined, max: number) => (value === undefined ? undefined : inertLine(value, max));
  const fields = {
    title: inertText(alert.title, 200),
    rationale: text(alert.rationale, 1000),
    evidence: text(alert.evidence, 1000),
    actionTaken: text(alert.actionTaken, 1000),
    nextStep: text(alert.nextStep, 1000),
    undo: line(alert.undo, 2000),
    findings: alert.findings?.map((f) => ({ ...f, ruleId: inertLine(f.ruleId, 100), title: inertText(f.title, 200), evidence: inertText(f.evidence, 1000) })),
    links: alert.links?.map((l) => ({ title: inertText(l.title, 100), url: l.url })),
    actor: alert.actor ? Object.fromEntries(Object.entries(alert.actor).map(([k, v]) => [k, typeof v === "string" ? inertText(v, 200) : v])) : undefined,
  };
  return Object.fromEntries(Object.entries({ ...alert, ...fields }).filter(([, v]) => v !== undefined)) as unknown as Alert;
}
