import { inForce, type ApprovedExemption } from "./store.js";

/** What a listed exemption is now: the store keeps revoked and expired ones (the audit trail of approvals). */
export type ExemptionStatus = "in-force" | "expired" | "revoked";

export interface ListedExemption extends ApprovedExemption {
  status: ExemptionStatus;
}

export function statusOf(exemption: ApprovedExemption, now: Date): ExemptionStatus {
  if (exemption.revokedAt) return "revoked";
  return inForce(exemption, now) ? "in-force" : "expired";
}

/** Exemptions with their status, newest approval first (what GET /api/exemptions and `amlguard exemptions list` show). */
export function listed(exemptions: readonly ApprovedExemption[], now: Date): ListedExemption[] {
  return [...exemptions].sort((a, b) => b.approvedAt.localeCompare(a.approvedAt) || a.id.localeCompare(b.id)).map((e) => ({ ...e, status: statusOf(e, now) }));
}

/** The id the store gives an exemption (randomUUID): anything else names no exemption. */
export const EXEMPTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
