import { createCredential } from "../../adapters.js";
import { parseMlResourceId, ResourceIdError } from "../../arm/ids.js";
import { loadConfig } from "../../config.js";
import { approveExemption, approveExemptionSchema, DEFAULT_EXEMPTION_MAX_DAYS, revokeExemption, type ExemptionDeps } from "../../exemptions/approve.js";
import { EXEMPTION_ID, listed, statusOf, type ListedExemption } from "../../exemptions/listing.js";
import { createAzureRuntime, depsFor, openState } from "../../runtime.js";
import type { Actor } from "../../state/audit.js";
import { inertLine } from "../../shared/inert.js";
import { describeIssues } from "../../validation.js";
import { table } from "../format.js";
import { columnsOf, EXIT, stderrLogger, UsageError, writeJson, type CliIo } from "../io.js";
import { signedInDecider } from "../signed-in.js";
import { storageTarget } from "./audit.js";

export interface ExemptionsOptions {
  resource?: string;
  rules?: string;
  until?: string;
  reason?: string;
  json?: boolean;
}

const FLAGS: Record<string, string> = { resourceId: "RESOURCE_ID", rules: "--rules", reason: "--reason", expires: "--until" };

/** `amlguard exemptions list|approve|revoke`: the same core as /api/exemptions, over Table Storage and ARM. */
export async function run(io: CliIo, [action, target]: string[], options: ExemptionsOptions): Promise<number> {
  if (action === "list") return list(io, options);
  if (action === "approve") return approve(io, target ?? "", options);
  if (action === "revoke") return revoke(io, target ?? "", options);
  throw new UsageError(`unknown exemptions command '${action ?? ""}': list, approve or revoke`);
}

async function list(io: CliIo, options: ExemptionsOptions): Promise<number> {
  const resourceId = options.resource === undefined ? undefined : canonical(options.resource);
  const { exemptions } = await openState(storageTarget(io));
  const found = listed(resourceId ? await exemptions.forResource(resourceId) : await exemptions.all(), new Date());
  if (options.json) writeJson(io, found);
  else io.stdout.write(`${exemptionsTable(found, columnsOf(io.stdout))}\n`);
  return EXIT.ok;
}

async function approve(io: CliIo, resourceId: string, options: ExemptionsOptions): Promise<number> {
  const rules = options.rules === undefined ? undefined : options.rules.trim() === "*" ? "*" : options.rules.split(",").map((r) => r.trim()).filter(Boolean);
  const parsed = approveExemptionSchema.safeParse({ resourceId, rules, reason: options.reason, expires: options.until }, { reportInput: true });
  if (!parsed.success) throw new UsageError(describeIssues(parsed.error.issues, (path) => ({ name: FLAGS[String(path[0])] ?? String(path[0] ?? "arguments") })));
  const { deps, actor, trigger } = await coreDeps(io, "exemptions approve");
  const exemption = await approveExemption(parsed.data, actor, trigger, deps);
  const shown = { ...exemption, status: statusOf(exemption, deps.now()) };
  if (options.json) writeJson(io, shown);
  else io.stdout.write(`${exemptionsTable([shown], columnsOf(io.stdout))}\n`);
  return EXIT.ok;
}

async function revoke(io: CliIo, id: string, options: ExemptionsOptions): Promise<number> {
  if (!EXEMPTION_ID.test(id)) throw new UsageError(`ID "${id.slice(0, 60)}" is not an exemption id (a GUID, as 'amlguard exemptions list' shows it)`);
  const { deps, actor, trigger } = await coreDeps(io, "exemptions revoke");
  const revoked = await revokeExemption(id, actor, trigger, deps);
  const shown = { ...revoked, status: statusOf(revoked, deps.now()) };
  if (options.json) writeJson(io, shown);
  else io.stdout.write(`${exemptionsTable([shown], columnsOf(io.stdout))}\n`);
  return EXIT.ok;
}

/**
 * The runtime the Functions app uses; the decider is the signed-in identity with the AmlGuard.Exempt role, proven by
 * its token for amlguard's API as the HTTP API proves it (so the four-eyes rule compares object ids, as over HTTP).
 */
async function coreDeps(io: CliIo, what: string): Promise<{ deps: ExemptionDeps; actor: Actor; trigger: string }> {
  const config = loadConfig(io.env);
  const credential = io.credential ?? createCredential();
  const actor = await signedInDecider(config, credential, "exempt", what, io.authorityCa ? { ca: io.authorityCa } : {});
  const runtime = await createAzureRuntime(config, credential);
  if (!runtime.manual) throw new UsageError("exemptions need AMLGUARD_SUBSCRIPTION_IDS and Table Storage");
  const pipeline = depsFor(runtime, stderrLogger(io));
  return {
    deps: {
      store: pipeline.exemptions,
      arm: pipeline.arm,
      audit: pipeline.audit,
      alerts: pipeline.alerts,
      now: pipeline.now,
      allowedSubscriptions: runtime.manual.allowedSubscriptions,
      maxDays: config.http.exemptionMaxDays ?? DEFAULT_EXEMPTION_MAX_DAYS,
      ...(pipeline.proposals ? { proposals: pipeline.proposals } : {}),
    },
    actor,
    trigger: `cli:${actor.name ?? actor.objectId ?? "signed-in"}`,
  };
}

function canonical(resourceId: string): string {
  try {
    return parseMlResourceId(resourceId).id;
  } catch (error) {
    if (error instanceof ResourceIdError) throw new UsageError(`--resource: ${error.message}`);
    throw error;
  }
}

/** Ids and resource ids whole (they are what `revoke` and the portal take); the reason wraps. */
export function exemptionsTable(exemptions: readonly ListedExemption[], columns: number): string {
  if (exemptions.length === 0) return "No exemptions.";
  // Names and reasons are people's text: inert in a terminal (no escape sequences); ids are capped far above their length.
  const cell = (text: string) => inertLine(text, 2048);
  const rows = exemptions.map((e) => [e.id, e.status, e.expires.slice(0, 10), e.rules.join(","), e.approvedBy.name ?? e.approvedBy.objectId ?? "-", e.resourceId, e.reason].map(cell));
  return table(
    [
      { header: "ID" },
      { header: "STATUS" },
      { header: "UNTIL" },
      { header: "RULES", wrap: "words", below: 3 },
      { header: "APPROVED BY", wrap: "words", below: 2 },
      { header: "RESOURCE", wrap: "path", below: 4 },
      { header: "REASON", wrap: "words", below: 1 },
    ],
    rows,
    columns,
  );
}
