/**
 * Webhook and SMTP URLs carry secrets (a Workflows URL's `sig` query parameter, SMTP user:password). Anything that
 * may reach a log, an error, the audit trail or an alert shows them redacted.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const auth = parsed.username || parsed.password ? "<redacted>@" : "";
    return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname}${parsed.search ? "?<redacted>" : ""}`;
  } catch {
    return "<unparseable url redacted>";
  }
}

/** Removes every occurrence of the given secrets (and their URL-encoded forms) from a text. */
export function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) result = result.split(form).join("<redacted>");
  }
  return result;
}

/** The secret parts of a URL: its query values and its password. */
export function secretsOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const parsed = new URL(url);
    return [...parsed.searchParams.values(), decodeURIComponent(parsed.password)].filter((value) => value.length >= 8);
  } catch {
    return [url];
  }
}
