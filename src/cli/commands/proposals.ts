import { createCredential } from "../../adapters.js";
import { loadConfig } from "../../config.js";
import { DEFAULT_EXEMPTION_MAX_DAYS } from "../../exemptions/approve.js";
import { approveProposal, rejectProposal, type Decider, type ProposalDeps } from "../../proposals/approve.js";
import { PROPOSAL_ID, PROPOSAL_STATUSES, type ProposalStatus } from "../../proposals/store.js";
import { statusAt, viewOf, type ProposalView } from "../../proposals/view.js";
import { createAzureRuntime, depsFor, openState } from "../../runtime.js";
import { inertLine } from "../../shared/inert.js";
import type { Actor } from "../../state/audit.js";
import { table } from "../format.js";
import { roleNamed } from "../../handlers/http.js";
import { columnsOf, EXIT, stderrLogger, UsageError, writeJson, type CliIo } from "../io.js";
import { signedInDecider } from "../signed-in.js";
import { storageTarget } from "./audit.js";

export interface ProposalsOptions {
  status?: string;
  reason?: string;
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
  const { deps, decider } = await coreDeps(io, id, "approve");
  const answer = await approveProposal(id, decider, deps);
  if (options.json) writeJson(io, answer);
  else io.stdout.write(answer.kind === "approved" ? `${answer.result.decision}: ${inertLine(answer.result.message, 2000)}${answer.result.undo ? `\nundo: ${answer.result.undo}` : ""}\n` : `not written: ${inertLine(answer.message, 2000)}\n`);
  if (answer.kind === "superseded") return EXIT.findings;
  return answer.result.decision === "remediated" || answer.result.decision === "exemption-approved" ? EXIT.ok : EXIT.findings;
}

async function reject(io: CliIo, id: string, options: ProposalsOptions): Promise<number> {
  const reason = options.reason?.trim();
  if (reason !== undefined && (reason.length < 3 || reason.length > 500)) throw new UsageError("--reason must say why, in 3 to 500 characters");
  const { deps, decider } = await coreDeps(io, id, "reject");
  const rejected = await rejectProposal(id, decider, reason, deps);
  if (options.json) writeJson(io, rejected);
  else io.stdout.write(`rejected: ${rejected.id}\n`);
  return EXIT.ok;
}

/**
 * The runtime the Functions app uses, and who decides: the signed-in identity, proven by its token for amlguard's API
 * as the HTTP API proves a caller (src/cli/signed-in.ts), holding the role the proposal's kind needs
 * (AmlGuard.Remediate, or AmlGuard.Exempt for an exemption request). The four-eyes rule compares its object id.
 */
async function coreDeps(io: CliIo, id: string, verb: "approve" | "reject"): Promise<{ deps: ProposalDeps; decider: Decider }> {
  const config = loadConfig(io.env);
  const credential = io.credential ?? createCredential();
  const { proposals } = await openState(storageTarget(io));
  const stored = await proposals!.get(id);
  if (!stored) throw new UsageError(`no proposal has the id ${id} ('amlguard proposals list' shows them)`);
  const need = stored.proposal.kind === "exemption" ? "exempt" : "remediate";
  const actor = await signedInDecider(config, credential, need, `proposals ${verb}`, io.authorityCa ? { ca: io.authorityCa } : {});
  const runtime = await createAzureRuntime(config, credential);
  if (!runtime.manual || !runtime.proposals) throw new UsageError("proposals need AMLGUARD_SUBSCRIPTION_IDS and Table Storage");
  const name = actor.name ?? actor.objectId ?? "signed-in";
  return {
    deps: { ...depsFor(runtime, stderrLogger(io)), proposals: runtime.proposals, allowedSubscriptions: runtime.manual.allowedSubscriptions, inflight: runtime.manual.inflight, exemptionMaxDays: config.http.exemptionMaxDays ?? DEFAULT_EXEMPTION_MAX_DAYS },
    decider: { actor, trigger: `cli:${name}`, mayDecide: () => true, roleFor: (kind) => roleNamed(kind === "exemption" ? "exempt" : "remediate", config.http) },
  };
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
