import { isJsonObject, type ArmResource } from "../arm/resource.js";

export const EXEMPTION_TAG = "amlguard-exempt";
const MAX_HORIZON_DAYS = 366;

export interface Exemption {
  rules: "*" | string[];
  reason: string;
  expires: string;
}

export type ExemptionStatus =
  | { kind: "none" }
  | { kind: "valid"; exemption: Exemption; raw: string }
  | { kind: "invalid"; problem: string; raw: string };

/**
 * Reads the `amlguard-exempt` tag: `rules=<id>[,<id>...]|*; reason=<text>; expires=YYYY-MM-DD`. An exemption ends at
 * the end of its expiry day (UTC) and may not reach more than a year ahead, so none is forgotten. Anything else is
 * invalid: it exempts nothing and is reported.
 */
export function readExemption(resource: ArmResource, knownRuleIds: readonly string[], now: Date): ExemptionStatus {
  const tags = resource.tags;
  if (!isJsonObject(tags)) return { kind: "none" };
  // ARM tag names are case-insensitive.
  const entry = Object.entries(tags).find(([name]) => name.toLowerCase() === EXEMPTION_TAG);
  if (!entry) return { kind: "none" };
  const raw = typeof entry[1] === "string" ? entry[1] : JSON.stringify(entry[1]);
  const invalid = (problem: string): ExemptionStatus => ({ kind: "invalid", problem, raw: raw.slice(0, 256) });
  const fields = new Map<string, string>();
  for (const part of raw.split(";")) {
    if (!part.trim()) continue;
    const eq = part.indexOf("=");
    if (eq <= 0) return invalid(`'${part.trim().slice(0, 40)}' is not key=value`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const rulesText = fields.get("rules");
  const reason = fields.get("reason");
  const expires = fields.get("expires");
  if (!rulesText) return invalid("rules is missing");
  if (!reason) return invalid("reason is missing");
  if (!expires) return invalid("expires is missing");
  const rules = rulesText === "*" ? "*" : rulesText.split(",").map((r) => r.trim()).filter(Boolean);
  if (rules !== "*") {
    const unknown = rules.filter((r) => !knownRuleIds.includes(r));
    if (rules.length === 0 || unknown.length) return invalid(`unknown rule id(s): ${unknown.join(", ").slice(0, 120)}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(expires) || Number.isNaN(Date.parse(`${expires}T00:00:00Z`))) {
    return invalid(`expires '${expires.slice(0, 40)}' is not a YYYY-MM-DD date`);
  }
  const end = Date.parse(`${expires}T23:59:59.999Z`);
  if (end < now.getTime()) return invalid(`expired on ${expires}`);
  if (end - now.getTime() > MAX_HORIZON_DAYS * 86_400_000) return invalid(`expires ${expires} is more than a year ahead`);
  return { kind: "valid", exemption: { rules, reason, expires }, raw: raw.slice(0, 256) };
}
