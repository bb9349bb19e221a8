/**
 * Text that came from outside (resource names, tags, claims, log rows) is made inert before a person reads it: no
 * control characters (terminal escapes, bidi overrides, line breaks that forge extra lines), a bounded length, and in
 * free text no clickable URL.
 */

// C0 and C1 controls, DEL, line/paragraph separators, zero-width and bidirectional formatting characters: matching
// control characters is the point here.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+/g;

/** One line, no control characters, at most `max` characters (an ellipsis says it was cut). */
export function inertLine(text: string, max = 1000): string {
  const line = text.replace(CONTROL, " ").replace(/ {2,}/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/** inertLine, and URLs defanged (hxxps://host[.]example) so a log row or tag cannot put a link in front of a person. */
export function inertText(text: string, max = 1000): string {
  const defanged = text
    .replace(/\b(h)tt(ps?):\/\/([^\s/?#]+)/gi, (_m, h: string, rest: string, host: string) => `${h}xx${rest}://${host.replace(/\./g, "[.]")}`)
    .replace(/\b(ftp|file|javascript|data|vbscript):/gi, "$1[:]")
    .replace(/\bwww\.([^\s/?#]+)/gi, (_m, host: string) => `www[.]${host.replace(/\./g, "[.]")}`);
  return inertLine(defanged, max);
}

/** A path segment for a URL we build (portal links): every character outside the unreserved set percent-encoded. */
export function urlSegment(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
