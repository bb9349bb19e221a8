// C0 and C1 controls (ESC starts terminal escape sequences), DEL, line/paragraph separators, bidirectional overrides.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/** A table cell printed to a terminal: text from outside (names, tags, messages) cannot move the cursor or add lines. */
export function inertCell(text: string): string {
  return text.replace(CONTROL, " ");
}
