/**
 * What is left for a person once an action is confirmed: the next step of a remediated alert. It lives with the
 * actions, not the rules, because it depends on what was done (a stopped instance must be recreated, a private
 * workspace only reviewed), and one action can answer several rules. Never a repeat of what amlguard just did.
 */

/** What the guidance is written from. */
export interface AfterwardsContext {
  /** The resource's name, as people call it. */
  name: string;
  /** The rules the write answered. */
  ruleIds: readonly string[];
  /** Who made the change that caused the finding, when known (events); a sweep does not know. */
  causedBy?: string;
}

function cause(ctx: AfterwardsContext): string {
  return ctx.causedBy ? `the change by ${ctx.causedBy}` : "the change (found by a sweep: the Activity Log names who made it)";
}

/** Public network access turned off: nothing is exposed any more; what is left is the why, and the template. */
export function privateNowReview(thing: string, property: string, ctx: AfterwardsContext): string {
  return (
    `${ctx.name} is private now. Review ${cause(ctx)}: if public access is really needed, the way is an exemption ` +
    `(an amlguard-exempt tag asks, a person with AmlGuard.Exempt approves); otherwise set ${property} Disabled in the ` +
    `${thing}'s template too, so a redeploy does not open it again.`
  );
}

/** Create-only compute settings, by the rule that needs them, as a person would set them at create. */
const CREATE_ONLY: Record<string, { instance: string; cluster: string }> = {
  "compute-node-public-ip": { instance: "without a public IP (enableNodePublicIp false)", cluster: "without node public IPs (enableNodePublicIp false)" },
  "compute-public-ssh": { instance: "with SSH closed to the internet (sshPublicAccess Disabled)", cluster: "with the remote login port closed (remoteLoginPortPublicAccess Disabled)" },
};

function createOnlySettings(ruleIds: readonly string[], kind: "instance" | "cluster"): string {
  const known = ruleIds.map((id) => CREATE_ONLY[id]?.[kind]).filter((s): s is string => s !== undefined);
  const unknown = ruleIds.filter((id) => !CREATE_ONLY[id]);
  return [...known, ...(unknown.length ? [`fixing ${unknown.join(", ")} as the rule says`] : [])].join(" and ");
}

/** A stopped instance: contained, not fixed; its network settings can only be set at create. */
export function recreateInstance(ctx: AfterwardsContext): string {
  return (
    `Contained, not fixed: recreate the instance ${createOnlySettings(ctx.ruleIds, "instance")}, inside a VNet subnet or ` +
    `the workspace's managed network (these settings are create-only), move its work over, then start the new one. ` +
    `${ctx.name} stays stopped meanwhile (a start is stopped again); delete it once the new one works.`
  );
}

/** A capped cluster: contained, not fixed; jobs wait until they are pointed at a recreated cluster. */
export function recreateCluster(ctx: AfterwardsContext): string {
  return (
    `Contained, not fixed: recreate the cluster ${createOnlySettings(ctx.ruleIds, "cluster")}, inside a VNet subnet or ` +
    `the workspace's managed network (these settings are create-only), and point its jobs there. Jobs sent to ${ctx.name} ` +
    `wait in its queue; raising its node count again (the undo) brings back the public exposure.`
  );
}
