/** Small, pure helpers for the benchmarks' figures (tested in test/bench-measure.test.ts). */

export interface Interval {
  atMs: number;
  ms: number;
}

/** The p-th percentile of ascending samples (nearest rank; 0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * The time within [startMs, endMs] covered by at least one injected delay: the injected time on the critical path
 * of the one event handled in that window. Delays that overlap (calls made in parallel) count once.
 */
export function coveredMs(intervals: readonly Interval[], startMs: number, endMs: number): number {
  const clipped = intervals
    .map((i) => [Math.max(startMs, i.atMs), Math.min(endMs, i.atMs + i.ms)] as const)
    .filter(([from, to]) => to > from)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const [from, to] of clipped) {
    if (to <= reach) continue;
    total += to - Math.max(from, reach);
    reach = to;
  }
  return total;
}

/** Counts per key, divided by `per` (two decimals), keys sorted. */
export function ratesBy<T>(items: readonly T[], key: (item: T) => string, per: number): Record<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => [k, round(n / per)]));
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
