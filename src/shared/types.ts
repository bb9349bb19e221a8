/** Types and patterns shared by every layer: one declaration each. */

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];
/** Most severe first. */
export const SEVERITY_ORDER: readonly Severity[] = SEVERITIES;

/** A GUID as Azure writes them (subscription ids, object ids, policy definition names), any casing. */
export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
