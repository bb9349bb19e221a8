/**
 * The scenario's clock: injected as the runtime's `now` (and into every table client that keeps time), so an
 * `advance` step moves time for amlguard without anyone waiting.
 */
export class ScenarioClock {
  private ms: number;

  constructor(start: Date) {
    this.ms = start.getTime();
  }

  readonly now = (): Date => new Date(this.ms);
  readonly nowMs = (): number => this.ms;

  advance(ms: number): void {
    this.ms += ms;
  }
}

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/**
 * ISO 8601 durations in weeks, days, hours, minutes and seconds (P30D, PT2H, P1DT12H). Years and months are refused:
 * their length depends on the date, and a scenario should say exactly how far it moves.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === "P" || text.endsWith("T")) return undefined;
  const [weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number];
  const ms = ((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
  return ms > 0 ? ms : undefined;
}
