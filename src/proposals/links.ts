import type { Alert } from "../alerts/alert.js";

/** The API path of a proposal: GET it (JSON, or the approval page in a browser), POST …/approve or …/reject. */
export function proposalPath(id: string): string {
  return `/api/proposals/${id}`;
}

/** The command that approves a proposal from a terminal. */
export function approveCommand(id: string): string {
  return `amlguard proposals approve ${id}`;
}

/**
 * How a person decides a proposal from an alert: the page served by the Function App (when AMLGUARD_PUBLIC_BASE_URL
 * says where it is reached) and the CLI command. The link carries no key or token: the page signs the person in.
 */
export function decisionLinks(id: string, publicBaseUrl: string | undefined, title: string): Pick<Alert, "links"> {
  return publicBaseUrl ? { links: [{ title, url: `${publicBaseUrl}${proposalPath(id)}` }] } : {};
}

/** The next step of a proposal's alert, in words, with the CLI line whole. */
export function decisionStep(id: string, role: string, writer: string | undefined, publicBaseUrl: string | undefined, what: string): string {
  const where = publicBaseUrl ? `Review and approve at ${publicBaseUrl}${proposalPath(id)}, or run '${approveCommand(id)}'` : `Run '${approveCommand(id)}' (set AMLGUARD_PUBLIC_BASE_URL for a link)`;
  const notWho = writer ? `, not ${writer}` : "";
  return `${where}: a person with ${role}${notWho}, ${what}. Reject with 'amlguard proposals reject ${id} --reason …'.`;
}
