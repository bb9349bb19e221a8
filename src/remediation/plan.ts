import { createHash } from "node:crypto";
import { parseMlResourceId } from "../arm/ids.js";
import { readPath, type ArmResource, type JsonValue, type MlResourceKind } from "../arm/resource.js";
import type { ArmClient, ArmRead } from "../azure/arm-client.js";
import type { FixIntent, RuleInputs } from "../rules/rule.js";
import type { AfterwardsContext } from "./guidance.js";

/**
 * One concrete write amlguard can make, registered per resource kind and fix intent. Each is reversible and none
 * deletes anything.
 */
export interface ActionDefinition {
  id: string;
  kind: MlResourceKind;
  intent: FixIntent;
  /** The ARM actions this write needs: the single source of truth for the custom role (infra/). */
  permissions: readonly string[];
  /** Stops the harm (stop, cap) without fixing the cause: the alert says what a person must still do. */
  containsOnly: boolean;
  /** For containment: exactly what it stops and what it does not, in the alert's words. */
  contains?: string;
  description: string;
  /**
   * What a person must still do once this write is confirmed: the next step of its alert (src/remediation/guidance.ts),
   * never what amlguard did.
   */
  afterwards(ctx: AfterwardsContext): string;
  /** Chooses what to change from the resource as read (and the related resources the rule was given). */
  plan(read: ArmRead, inputs: RuleInputs): PlanResult;
}

/** What one action will change, how to check it worked, and how a person undoes it. */
export interface ChangePlan {
  action: ActionDefinition;
  /** The id the write goes to: the id that was read and scope-checked, never one taken from a response body. */
  targetId: string;
  /** The property values the action changes, as read now. */
  before: Record<string, JsonValue>;
  /** The values the action sets. */
  intended: Record<string, JsonValue>;
  /** Identifies the state the plan was made from, for the one-write-per-state lock. */
  observedState: string;
  undo: string;
  execute(arm: ArmClient): Promise<void>;
  /** Reads back and checks the post-condition; `observed` goes to the audit trail. */
  confirm(arm: ArmClient): Promise<{ holds: boolean; observed: Record<string, JsonValue> }>;
  /** After the write: what fell short of the plan (a fallback taken), for the alert and the audit row. */
  caveat?(): string | undefined;
}

export type PlanResult =
  | { kind: "plan"; plan: ChangePlan }
  | { kind: "already-done"; detail: string }
  /** The action fits the resource, but amlguard will not write (it would overwrite what it does not own). */
  | { kind: "refused"; detail: string }
  /** The action is not for this resource (a compute instance for the cluster action). */
  | { kind: "not-applicable" };

/** Raised by an action that finds, just before writing, that the resource is no longer in the state it planned from. */
export class WriteConflict extends Error {
  override name = "WriteConflict";
}

/**
 * The condition every write carries. With an ETag (header or body) the write is sent with If-Match, so ARM refuses it
 * if anyone changed the resource since the read. Without one, the resource is read again just before the write and
 * the write is abandoned if anything changed.
 */
export async function writeCondition(arm: ArmClient, read: ArmRead): Promise<{ ifMatch?: string; base: ArmResource }> {
  if (read.etag) return { ifMatch: read.etag, base: read.resource };
  const fresh = await arm.get(read.resource.id);
  if (JSON.stringify(fresh.resource) !== JSON.stringify(read.resource)) {
    throw new WriteConflict("the resource changed since it was read, and ARM gave no ETag to guard the write");
  }
  return { ...(fresh.etag ? { ifMatch: fresh.etag } : {}), base: fresh.resource };
}

/** The state a plan was made from: the ETag when ARM gave one, else a digest of the body as read. */
export function observedStateOf(read: ArmRead): string {
  return read.etag ?? createHash("sha256").update(JSON.stringify(read.resource)).digest("hex");
}

export function pick(resource: ArmResource, path: string): Record<string, JsonValue> {
  return { [path]: readPath(resource, path) ?? null };
}

/** A post-condition checked on the resource read back after the write. */
export function confirmByReading(resourceId: string, path: string, holds: (after: ArmResource) => boolean): ChangePlan["confirm"] {
  return async (arm) => {
    const after = (await arm.get(resourceId)).resource;
    return { holds: holds(after), observed: pick(after, path) };
  };
}

/**
 * One shell argument: as is when it holds only characters no shell treats specially, else single-quoted. Resource
 * group names may hold parentheses and periods, which bash would otherwise read as syntax.
 */
export function shellArg(value: string): string {
  return /^[A-Za-z0-9._/:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The az ml arguments naming this resource, so an undo command can be pasted as is. */
export function cliNames(resourceId: string): string {
  const id = parseMlResourceId(resourceId);
  const q = shellArg;
  const parent = id.kind === "registry" ? `--name ${q(id.parentName)}` : id.childNames.length ? `--workspace-name ${q(id.parentName)}` : `--name ${q(id.parentName)}`;
  const child = id.kind === "onlineDeployment" ? `--endpoint-name ${q(id.childNames[0]!)} --name ${q(id.childNames[1]!)}` : id.childNames[0] ? `--name ${q(id.childNames[0])}` : "";
  return [`--subscription ${q(id.subscriptionId)}`, `--resource-group ${q(id.resourceGroup)}`, parent, child].filter(Boolean).join(" ");
}
