import type { Alert } from "../alerts/alert.js";

/** The API path of a proposal: GET it (JSON, or the approval page in a browser), POST …/approve or …/reject. */
export function proposalPath(id: string): string {
  return `/api/proposals/${id}`;
}

/** The command that approves a proposal from a terminal. */
export function approveCommand(id: string): string {
  return `amlguard proposals approve ${id}`;
}

/** The page opened at its "Exempt instead…" section (the query is read by the page only; the API ignores it). */
export const EXEMPT_INTENT = "intent=exempt";

/**
 * How a person decides a proposal from an alert: the page served by the Function App (when AMLGUARD_PUBLIC_BASE_URL
 * says where it is reached) and the CLI command; a remediation proposal's alert also links "Exempt…", the same page
 * opened at its exemption form. The links carry no key or token: the page signs the person in.
 */
export function decisionLinks(id: string, publicBaseUrl: string | undefined, title: string, exempt = false): Pick<Alert, "links"> {
  if (!publicBaseUrl) return {};
  const page = `${publicBaseUrl}${proposalPath(id)}`;
  return { links: [{ title, url: page }, ...(exempt ? [{ title: "Exempt…", url: `${page}?${EXEMPT_INTENT}` }] : [])] };
}

/** The next step of a proposal's alert, in words, with the CLI line whole. */
export function decisionStep(id: string, role: string, writer: string | undefined, publicBaseUrl: string | undefined, what: string): string {
  const where = publicBaseUrl ? `Review and approve at ${publicBaseUrl}${proposalPath(id)}, or run '${approveCommand(id)}'` : `Run '${approveCommand(id)}' (set AMLGUARD_PUBLIC_BASE_URL for a link)`;
  const notWho = writer ? `, not ${writer}` : "";
  return `${where}: a person with ${role}${notWho}, ${what}. Reject with 'amlguard proposals reject ${id} --reason …'.`;
}
