import type { FailureBucket } from "./detect.js";
import { spikeKey } from "./synthetic.js";

/**
 * The comparator: Microsoft Sentinel's own analytics rules for brute force and password spray against Entra sign-ins
 * (Azure-Sentinel repository, `Solutions/Microsoft Entra ID/Analytic Rules/`), ported to TypeScript over the rows of
 * amlguard's query, with their thresholds, time ranges and schedule (`queryFrequency: 1d` for all four).
 *
 * What the rows cannot carry, and how the port stands in for it (each makes the port flag more, never less):
 * - successes: the rules join failures with successful sign-ins (a success after the failures; more failing than
 *   succeeding principals per IP). amlguard's query counts failures only, so those joins are left out.
 * - 20-minute windows: the rows are hourly buckets; a distinct count or a sum over an hour is at least that of any of
 *   its 20 minutes.
 * - ResultType codes (50126, 50053, 50055, 50056): the rows count every failure.
 * - locations: a distinct IP stands in for a distinct location (several IPs can share a city).
 * - AppDisplayName "Azure Portal": the rows' Target stands in for the application, and the rules run on every source
 *   (endpoint keys, storage, Key Vault too); limited to Entra sign-ins they would miss every other attack by design.
 */
export interface SentinelDetection {
  rule: SentinelRule;
  /** Same key scheme as the labels: (source, target, principal), or (source, "*", ip) for an IP. */
  key: string;
  /** The rows the rule's run looked at: [run end - its time range, run end). */
  window: { start: Date; end: Date };
}

export type SentinelRule = "SigninPasswordSpray" | "SigninBruteForce-AzurePortal" | "FailedLogonToAzurePortal" | "DistribPassCrackAttempt";

const DAY_MS = 86_400_000;

/** The four rules, as each run of their daily schedule sees the rows: [runEnd - timeRange, runEnd). */
export function sentinelRules(rows: readonly FailureBucket[], runEnd: Date): SentinelDetection[] {
  return [...passwordSpray(rows, runEnd), ...bruteForcePortal(rows, runEnd), ...failedLogonPortal(rows, runEnd), ...distributedCracking(rows, runEnd)];
}

/** Runs on the rules' schedule (queryFrequency 1d), ending at `evalEnd` and going back while a run ends after `evalStart`. */
export function sentinelSchedule(rows: readonly FailureBucket[], evalStart: Date, evalEnd: Date): SentinelDetection[] {
  const detections: SentinelDetection[] = [];
  for (let end = evalEnd.getTime(); end > evalStart.getTime(); end -= DAY_MS) detections.push(...sentinelRules(rows, new Date(end)));
  return detections;
}

function within(rows: readonly FailureBucket[], runEnd: Date, rangeMs: number): { rows: FailureBucket[]; window: { start: Date; end: Date } } {
  const end = runEnd.getTime();
  const start = end - rangeMs;
  return { rows: rows.filter((r) => r.bucket.getTime() >= start && r.bucket.getTime() < end), window: { start: new Date(start), end: runEnd } };
}

/**
 * SigninPasswordSpray.yaml ("Password spray attack against Microsoft Entra ID application"): timeRange 3d,
 * authenticationWindow 20m, authenticationThreshold 5: `summarize FailedPrincipalCount = dcount(UserPrincipalName) by
 * bin(TimeGenerated, authenticationWindow), IPAddress, AppDisplayName, Type | where FailedPrincipalCount >= 5`; the IP is
 * the alert. Dropped: `GlobalFailPrincipalCount > GlobalSuccessPrincipalCount` (needs successes).
 */
export function passwordSpray(rows: readonly FailureBucket[], runEnd: Date): SentinelDetection[] {
  const { rows: inRange, window } = within(rows, runEnd, 3 * DAY_MS);
  const principals = new Map<string, Set<string>>();
  for (const row of inRange) {
    if (!row.ipAddress) continue;
    const group = [row.source, row.target, row.ipAddress, row.bucket.getTime()].join("\u0000");
    let set = principals.get(group);
    if (!set) principals.set(group, (set = new Set()));
    set.add(row.principal);
  }
  const keys = new Set<string>();
  for (const [group, set] of principals) {
    const [source, , ip] = group.split("\u0000") as [string, string, string];
    if (set.size >= 5) keys.add(spikeKey(source, "*", ip));
  }
  return [...keys].map((key) => ({ rule: "SigninPasswordSpray", key, window }));
}

/**
 * SigninBruteForce-AzurePortal.yaml ("Brute force attack against Azure Portal"): timeRange 24h, sessions of 20m per
 * user, threshold 25: `Deviation = abs(FailureCountBeforeSuccess - avgFailures) / avgFailures | where Deviation >
 * threshold and FailureCountBeforeSuccess >= 10`, avgFailures being the user's share of failed sign-ins over 7d.
 * With failures only that share is 1, so a session needs more than 26 failures; the success that closes the session
 * in the rule cannot be required.
 */
export function bruteForcePortal(rows: readonly FailureBucket[], runEnd: Date): SentinelDetection[] {
  const threshold = 25;
  const avgFailures = 1; // avg(todouble(FailureOrSuccess == "Failure")) over 7d: every row here is a failure
  const { rows: inRange, window } = within(rows, runEnd, DAY_MS);
  const sessions = new Map<string, number>();
  for (const row of inRange) {
    const group = [spikeKey(row.source, row.target, row.principal), row.bucket.getTime()].join("\u0000");
    sessions.set(group, (sessions.get(group) ?? 0) + row.failures);
  }
  const keys = new Set<string>();
  for (const [group, failures] of sessions) {
    if (Math.abs(failures - avgFailures) / avgFailures > threshold && failures >= 10) keys.add(group.split("\u0000")[0]!);
  }
  return [...keys].map((key) => ({ rule: "SigninBruteForce-AzurePortal", key, window }));
}

/**
 * FailedLogonToAzurePortal.yaml ("Failed login attempts to Azure Portal"): timeRange 1d, threshold_Failed 5,
 * threshold_FailedwithSingleIP 20, threshold_IPAddressCount 2, per user and app: `(IPAddressCount >= 2 and
 * FailedLogonCount >= 5) or FailedLogonCount >= 20`.
 */
export function failedLogonPortal(rows: readonly FailureBucket[], runEnd: Date): SentinelDetection[] {
  const { rows: inRange, window } = within(rows, runEnd, DAY_MS);
  const users = new Map<string, { failures: number; ips: Set<string> }>();
  for (const row of inRange) {
    const key = spikeKey(row.source, row.target, row.principal);
    const user = users.get(key) ?? { failures: 0, ips: new Set<string>() };
    user.failures += row.failures;
    if (row.ipAddress) user.ips.add(row.ipAddress);
    users.set(key, user);
  }
  return [...users]
    .filter(([, u]) => (u.ips.size >= 2 && u.failures >= 5) || u.failures >= 20)
    .map(([key]) => ({ rule: "FailedLogonToAzurePortal", key, window }));
}

/**
 * DistribPassCrackAttempt.yaml ("Distributed Password cracking attempts in Microsoft Entra ID"): queryPeriod 1d,
 * s_threshold 30, l_threshold 3, per user across apps: `SigninCount > 30 and LocationCount >= 3`. The alert names the
 * user; each of the user's (source, target) keys in range is reported.
 */
export function distributedCracking(rows: readonly FailureBucket[], runEnd: Date): SentinelDetection[] {
  const { rows: inRange, window } = within(rows, runEnd, DAY_MS);
  const users = new Map<string, { failures: number; ips: Set<string>; keys: Set<string> }>();
  for (const row of inRange) {
    const id = [row.source, row.principal].join("\u0000");
    const user = users.get(id) ?? { failures: 0, ips: new Set<string>(), keys: new Set<string>() };
    user.failures += row.failures;
    if (row.ipAddress) user.ips.add(row.ipAddress);
    user.keys.add(spikeKey(row.source, row.target, row.principal));
    users.set(id, user);
  }
  return [...users.values()]
    .filter((u) => u.failures > 30 && u.ips.size >= 3)
    .flatMap((u) => [...u.keys].map((key) => ({ rule: "DistribPassCrackAttempt" as const, key, window })));
}
