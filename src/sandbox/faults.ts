/**
 * Faults the sandboxes inject on request, for tests and benchmarks: what real Azure does under load or failure.
 * - latency: every matching request waits this long before it is answered.
 * - throttle: 429 with Retry-After (ARM's throttling contract; https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
 * - server-error: 500/503 with an ARM error body.
 * - drop: the connection is destroyed without a response.
 * - lro-failure: a long-running operation is accepted, then its status ends Failed and nothing changes.
 * - forbidden: 403 AuthorizationFailed after authentication, as when the caller lacks the role for the action.
 * - foreign-id: a successful GET whose body names another resource (`answeredId`), as a misrouting proxy or a
 *   confused service would answer; amlguard must refuse to act on it.
 */
export type FaultKind = "latency" | "throttle" | "server-error" | "drop" | "lro-failure" | "forbidden" | "foreign-id";

export interface Fault {
  kind: FaultKind;
  /** Only requests with this method (any when absent). */
  method?: string;
  /** Only request paths matching this (case-insensitive; any when absent). */
  path?: RegExp;
  /** How many matching requests it hits; Infinity when absent. */
  times?: number;
  /** Hits each matching request with this probability (chaos runs); every one when absent. */
  probability?: number;
  latencyMs?: number;
  retryAfterSeconds?: number;
  statusCode?: 500 | 503;
  /** foreign-id: the id the answer names instead of the one asked for. */
  answeredId?: string;
}

export class FaultInjector {
  private readonly faults: Array<Fault & { remaining: number }> = [];
  /** Random source for probabilistic faults; a seeded one makes a chaos run repeatable. */
  random: () => number = Math.random;
  /** How many times each kind fired, for test assertions and benchmark reports. */
  readonly fired: Record<FaultKind, number> = { latency: 0, throttle: 0, "server-error": 0, drop: 0, "lro-failure": 0, forbidden: 0, "foreign-id": 0 };
  /** Told of each injected latency as it starts (benchmarks sum the injected time on an event's critical path). */
  onLatency?: (latencyMs: number) => void;

  add(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.faults.length = 0;
  }

  /** The latency to add and the first non-latency fault to apply, consuming one use of each. */
  take(method: string, path: string): { latencyMs: number; fault?: Fault } {
    let latencyMs = 0;
    let fault: Fault | undefined;
    for (const candidate of this.faults) {
      if (candidate.remaining <= 0) continue;
      if (candidate.method && candidate.method.toUpperCase() !== method.toUpperCase()) continue;
      if (candidate.path && !candidate.path.test(path)) continue;
      if (candidate.probability !== undefined && this.random() >= candidate.probability) continue;
      if (candidate.kind === "latency") {
        latencyMs += candidate.latencyMs ?? 0;
      } else if (fault) {
        continue;
      } else {
        fault = candidate;
      }
      candidate.remaining -= 1;
      this.fired[candidate.kind] += 1;
    }
    if (latencyMs > 0) this.onLatency?.(latencyMs);
    return fault ? { latencyMs, fault } : { latencyMs };
  }
}
