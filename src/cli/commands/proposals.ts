import type { TokenCredential } from "@azure/core-auth";
import { createCredential } from "../../adapters.js";
import { loadConfig } from "../../config.js";
import { DEFAULT_EXEMPTION_MAX_DAYS } from "../../exemptions/approve.js";
import { approveProposal, rejectProposal, type Decider, type ProposalDeps } from "../../proposals/approve.js";
import { PROPOSAL_ID, PROPOSAL_STATUSES, type ProposalStatus } from "../../proposals/store.js";
import { statusAt, viewOf, type ProposalView } from "../../proposals/view.js";
import { createAzureRuntime, depsFor, openState } from "../../runtime.js";
import { inertLine } from "../../shared/inert.js";
import { GUID_PATTERN } from "../../shared/types.js";
import type { Actor } from "../../state/audit.js";
import { table } from "../format.js";
import { columnsOf, EXIT, stderrLogger, UsageError, writeJson, type CliIo } from "../io.js";
import { storageTarget } from "./audit.js";

export interface ProposalsOptions {
  status?: string;
  reason?: string;
  as?: string;
  json?: boolean;
}

/** `amlguard proposals list|show|approve|reject`: the same core as /api/proposals, over Table Storage and ARM. */
export async function run(io: CliIo, [action, id]: string[], options: ProposalsOptions): Promise<number> {
  if (action === "list") return list(io, options);
  const proposalId = checkedId(id ?? "");
  if (action === "show") return show(io, proposalId, options);
  if (action === "approve") return approve(io, proposalId, options);
  if (action === "reject") return reject(io, proposalId, options);
  throw new UsageError(`unknown proposals command '${action ?? ""}': list, show, approve or reject`);
}

async function list(io: CliIo, options: ProposalsOptions): Promise<number> {
  if (options.status !== undefined && !(PROPOSAL_STATUSES as readonly string[]).includes(options.status)) {
    throw new UsageError(`--status: "${inertLine(options.status, 40)}" must be one of ${PROPOSAL_STATUSES.join(", ")}`);
  }
  const { proposals } = await openState(storageTarget(io));
  const now = new Date();
  const shown = (await proposals!.list()).filter((p) => !options.status || statusAt(p, now) === (options.status as ProposalStatus)).map((p) => viewOf(p, now));
  if (options.json) writeJson(io, shown);
  else io.stdout.write(`${proposalsTable(shown, columnsOf(io.stdout))}\n`);
  return EXIT.ok;
}

async function show(io: CliIo, id: string, options: ProposalsOptions): Promise<number> {
  const { proposals } = await openState(storageTarget(io));
  const stored = await proposals!.get(id);
  if (!stored) throw new UsageError(`no proposal has the id ${id} ('amlguard proposals list' shows them)`);
  const view = viewOf(stored.proposal, new Date());
  if (options.json) writeJson(io, view);
  else io.stdout.write(`${describe(view)}\n`);
  return EXIT.ok;
}

async function approve(io: CliIo, id: string, options: ProposalsOptions): Promise<number> {
  const { deps, decider } = await coreDeps(io, options);
  const answer = await approveProposal(id, decider, deps);
  if (options.json) writeJson(io, answer);
  else io.stdout.write(answer.kind === "approved" ? `${answer.result.decision}: ${inertLine(answer.result.message, 2000)}${answer.result.undo ? `\nundo: ${answer.result.undo}` : ""}\n` : `not written: ${inertLine(answer.message, 2000)}\n`);
  if (answer.kind === "superseded") return EXIT.findings;
  return answer.result.decision === "remediated" || answer.result.decision === "exemption-approved" ? EXIT.ok : EXIT.findings;
}

async function reject(io: CliIo, id: string, options: ProposalsOptions): Promise<number> {
  const reason = options.reason?.trim();
  if (reason !== undefined && (reason.length < 3 || reason.length > 500)) throw new UsageError("--reason must say why, in 3 to 500 characters");
  const { deps, decider } = await coreDeps(io, options);
  const rejected = await rejectProposal(id, decider, reason, deps);
  if (options.json) writeJson(io, rejected);
  else io.stdout.write(`rejected: ${rejected.id}\n`);
  return EXIT.ok;
}

/**
 * The runtime the Functions app uses, and who decides. The CLI holds no token for amlguard's API, so it cannot check
 * app roles: its authority is the operator's access to amlguard's Table Storage and ARM, as for `amlguard exemptions
 * approve`. The four-eyes rule still applies, on the object id of the signed-in identity (read from the credential's
 * own ARM token), or of `--as OBJECT_ID` where the credential names nobody; the two must agree when both are there.
 */
async function coreDeps(io: CliIo, options: ProposalsOptions): Promise<{ deps: ProposalDeps; decider: Decider }> {
  if (options.as !== undefined && !GUID_PATTERN.test(options.as)) throw new UsageError(`--as: "${inertLine(options.as, 60)}" must be an object id (a GUID)`);
  const config = loadConfig(io.env);
  const credential = io.credential ?? createCredential();
  const actor = await signedIn(credential, config.armEndpoint, options.as);
  const runtime = await createAzureRuntime(config, credential);
  if (!runtime.manual || !runtime.proposals) throw new UsageError("proposals need AMLGUARD_SUBSCRIPTION_IDS and Table Storage");
  const name = actor.name ?? actor.objectId!;
  return {
    deps: { ...depsFor(runtime, stderrLogger(io)), proposals: runtime.proposals, allowedSubscriptions: runtime.manual.allowedSubscriptions, inflight: runtime.manual.inflight, exemptionMaxDays: config.http.exemptionMaxDays ?? DEFAULT_EXEMPTION_MAX_DAYS },
    decider: { actor, trigger: `cli:${name}`, mayDecide: () => true, roleFor: (kind) => (kind === "exemption" ? "AmlGuard.Exempt" : "AmlGuard.Remediate") },
  };
}

/** The signed-in identity: the `oid` (and name) of the credential's own token for ARM, or `--as`. */
export async function signedIn(credential: TokenCredential, armEndpoint: string, as: string | undefined): Promise<Actor> {
  const token = await credential.getToken(`${armEndpoint.replace(/\/+$/, "")}/.default`).catch(() => null);
  const claims = token ? claimsOf(token.token) : undefined;
  const oid = typeof claims?.oid === "string" ? claims.oid : undefined;
  if (oid && as && oid.toLowerCase() !== as.toLowerCase()) throw new UsageError(`--as ${as} is not the signed-in identity (${oid}); leave --as out`);
  const objectId = oid ?? as;
  if (!objectId) throw new UsageError("who is deciding? The credential's token names no object id: pass --as OBJECT_ID (your Entra object id), so the four-eyes rule can be checked");
  const name = [claims?.preferred_username, claims?.upn, claims?.unique_name, claims?.name].find((v): v is string => typeof v === "string");
  const appId = typeof claims?.appid === "string" && claims.idtyp === "app" ? claims.appid : undefined;
  return { objectId, ...(name ? { name: inertLine(name, 200) } : {}), principalType: appId ? "ServicePrincipal" : "User", ...(appId ? { appId } : {}) };
}

/** The payload of a JWT, read (not verified: it is this process's own token, only used to say who is acting). */
function claimsOf(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function checkedId(id: string): string {
  if (!PROPOSAL_ID.test(id)) throw new UsageError(`ID "${inertLine(id, 60)}" is not a proposal id (a GUID, as 'amlguard proposals list' shows it)`);
  return id.toLowerCase();
}

/** Ids and resource ids whole; names and reasons are people's text, inert in a terminal. */
export function proposalsTable(proposals: readonly ProposalView[], columns: number): string {
  if (proposals.length === 0) return "No proposals.";
  const cell = (text: string) => inertLine(text, 2048);
  const rows = proposals.map((p) => [p.id, p.status, p.kind, p.expiresAt.slice(0, 16), p.ruleIds.join(",") || "*", p.requestedBy?.name ?? p.requestedBy?.objectId ?? "-", p.resourceId].map(cell));
  return table(
    [
      { header: "ID" },
      { header: "STATUS" },
      { header: "KIND" },
      { header: "EXPIRES (UTC)" },
      { header: "RULES", wrap: "words", below: 2 },
      { header: "CHANGED BY", wrap: "words", below: 3 },
      { header: "RESOURCE", wrap: "path", below: 1 },
    ],
    rows,
    columns,
  );
}

function describe(p: ProposalView): string {
  const who = (actor: Actor | undefined) => (actor ? `${actor.name ?? actor.objectId ?? "unknown"}${actor.objectId ? ` (${actor.objectId})` : ""}` : "unknown");
  const lines: Array<[string, string | undefined]> = [
    ["Proposal", p.id],
    ["Status", p.status],
    ["Kind", p.kind],
    ["Resource", p.resourceId],
    ["Changed by", who(p.requestedBy)],
    ["Proposed by", "amlguard"],
    ["Created", p.createdAt],
    ["Expires", p.expiresAt],
    ...p.findings.map((f): [string, string] => ["Finding", `${f.severity} ${f.ruleId}: ${f.evidence}`]),
    ["Change", p.action ? `${p.action.description}: ${JSON.stringify(p.action.before)} -> ${JSON.stringify(p.action.after)}` : undefined],
    ["Undo", p.action?.undo],
    ["Exemption", p.exemption ? `${p.exemption.rules === "*" ? "*" : p.exemption.rules.join(",")} until ${p.exemption.expires}: ${p.exemption.reason}` : undefined],
    ["Observed", p.observed ? (p.observed.etag ? `ETag ${p.observed.etag}` : `values ${JSON.stringify(p.observed.values)}`) : undefined],
    ["Decided by", p.decidedBy ? `${who(p.decidedBy)} at ${p.decidedAt ?? "?"}` : undefined],
    ["Reason", p.decisionReason],
    ["Result", p.result ? `${p.result.decision}: ${p.result.message}` : undefined],
    ["Superseded by", p.supersededBy],
    ["Approve", p.decidable ? p.cli.approve : undefined],
  ];
  return lines.filter((l): l is [string, string] => l[1] !== undefined).map(([k, v]) => `${k}: ${inertLine(v, 4000)}`).join("\n");
}
