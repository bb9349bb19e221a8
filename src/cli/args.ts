import { GUID_PATTERN } from "../shared/types.js";
import { UsageError } from "./io.js";

// Light checks on command-line values, loaded with the program (no zod, no Azure SDK) so `--help` stays fast.

const NAME = /^[-\w.()]{1,90}$/;

const UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * "30m", "24h", "7d" before now, or an ISO date, no further back than `maxMs` (when given): a window the command
 * cannot serve is refused, never silently shortened.
 */
export function parseSince(flag: string, text: string, now: Date, maxMs?: number): Date {
  const shown = JSON.stringify(text.slice(0, 40));
  const relative = /^(\d{1,4})([mhd])$/.exec(text.trim());
  let since: Date | undefined;
  if (relative) since = new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2] as keyof typeof UNITS]);
  else if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) since = new Date(Date.parse(text));
  if (!since) throw new UsageError(`${flag} ${shown} is not a duration like 30m, 24h or 7d, or an ISO date like 2026-11-24T08:00Z`);
  if (since.getTime() > now.getTime()) throw new UsageError(`${flag} ${shown} is in the future`);
  if (maxMs !== undefined && now.getTime() - since.getTime() > maxMs) {
    throw new UsageError(`${flag} ${shown} reaches back further than ${describeMs(maxMs)}, the most this command can look at`);
  }
  return since;
}

function describeMs(ms: number): string {
  if (ms % UNITS.d === 0) return `${ms / UNITS.d} day(s) (${ms / UNITS.h}h)`;
  if (ms % UNITS.h === 0) return `${ms / UNITS.h} hour(s)`;
  return `${Math.round(ms / UNITS.m)} minute(s)`;
}

export function checkGuid(flag: string, value: string, what: string): void {
  if (!GUID_PATTERN.test(value)) throw new UsageError(`${flag} ${JSON.stringify(value.slice(0, 60))} is not a ${what} GUID (like 00000000-0000-0000-0000-000000000000)`);
}

export function checkName(flag: string, value: string, what: string): void {
  if (!NAME.test(value)) throw new UsageError(`${flag} ${JSON.stringify(value.slice(0, 100))} is not a valid ${what} (letters, digits, - _ . ( ), at most 90 characters)`);
}
