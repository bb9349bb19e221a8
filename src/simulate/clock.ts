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

// Scenario durations are the settings' durations (src/shared/duration.ts).
export { parseDuration } from "../shared/duration.js";
