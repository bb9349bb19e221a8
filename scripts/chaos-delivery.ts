/**
 * The chaos run's stand-ins for Event Grid and the outbox timer, both driven by counts, never by the wall clock, so a
 * busy machine changes how long a run takes and nothing else.
 */
import type { JsonObject } from "../src/arm/resource.js";

type Delivery = { event: JsonObject; attempt: number; notBefore: number };

/**
 * Event Grid delivering at least once: each event `duplicates` times, shuffled (seeded), to many workers; a throw is
 * redelivered up to `maxDeliveryAttempts`. The redelivery backoff is counted in deliveries: a retry waits for
 * 20 × attempt others to start, or for the queue to run dry when nothing else is left to wait for.
 */
export class DeliveryQueue {
  deliveries = 0;
  redeliveries = 0;
  private readonly ready: Delivery[] = [];
  private head = 0;
  private waiting: Delivery[] = [];
  private inFlight = 0;
  private readonly sleepers: Array<() => void> = [];

  constructor(
    private readonly options: { duplicates: number; maxDeliveryAttempts: number; random: () => number; onDelivery?: (count: number) => void },
  ) {}

  enqueue(events: JsonObject[]): void {
    const copies = events.flatMap((event) => Array.from({ length: this.options.duplicates }, () => ({ event, attempt: 1, notBefore: 0 })));
    for (let i = copies.length - 1; i > 0; i--) {
      const j = Math.floor(this.options.random() * (i + 1));
      [copies[i], copies[j]] = [copies[j]!, copies[i]!];
    }
    this.ready.push(...copies);
    this.wake();
  }

  get queued(): number {
    return this.ready.length - this.head + this.waiting.length;
  }

  /** Nothing ready and nothing waiting for a retry. */
  get drained(): boolean {
    return this.queued === 0;
  }

  /** One worker: delivers until the queue is drained and nobody is working, or `keepGoing` says stop. */
  async work(deliver: (event: JsonObject) => Promise<void>, keepGoing: () => boolean): Promise<void> {
    while (keepGoing()) {
      const item = this.take();
      if (!item) {
        if (this.waiting.length === 0 && this.inFlight === 0) return;
        // Others are still working and may queue more (redeliveries, events of the bot's own writes).
        await new Promise<void>((resolve) => this.sleepers.push(resolve));
        continue;
      }
      this.inFlight += 1;
      this.deliveries += 1;
      this.options.onDelivery?.(this.deliveries);
      try {
        await deliver(item.event);
      } catch {
        if (item.attempt < this.options.maxDeliveryAttempts) {
          this.redeliveries += 1;
          this.waiting.push({ event: item.event, attempt: item.attempt + 1, notBefore: this.deliveries + 20 * item.attempt });
        }
      } finally {
        this.inFlight -= 1;
        this.wake();
      }
    }
  }

  private take(): Delivery | undefined {
    if (this.waiting.length) {
      const dry = this.head >= this.ready.length;
      const due = this.waiting.filter((d) => dry || d.notBefore <= this.deliveries);
      if (due.length) {
        this.waiting = this.waiting.filter((d) => !due.includes(d));
        this.ready.push(...due);
      }
    }
    return this.head < this.ready.length ? this.ready[this.head++] : undefined;
  }

  private wake(): void {
    for (const resolve of this.sleepers.splice(0)) resolve();
  }
}

/**
 * A timer that fires when ticked (the chaos run ticks it every so many deliveries) and, like a Functions timer
 * trigger, never overlaps itself: ticks during a run make one more run.
 */
export class TickedTimer {
  private ticked = false;
  private wakeUp: () => void = () => undefined;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(run: () => Promise<void>) {
    this.loop = (async () => {
      while (this.running) {
        if (!this.ticked) await new Promise<void>((resolve) => (this.wakeUp = resolve));
        this.ticked = false;
        if (this.running) await run();
      }
    })();
  }

  tick(): void {
    this.ticked = true;
    this.wakeUp();
  }

  /** Stops after the run in progress, if any. */
  async stop(): Promise<void> {
    this.running = false;
    this.tick();
    await this.loop;
  }
}
