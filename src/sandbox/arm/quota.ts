import { armErrors } from "../arm-errors.js";

/** A token bucket: how many requests it holds, and how many tokens come back each second. */
export interface BucketLimits {
  capacity: number;
  refillPerSecond: number;
}

/**
 * ARM's subscription limits since its 2024 throttling architecture ("Understand how Azure Resource Manager throttles
 * requests", https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
 * "Regional throttling and token bucket algorithm"): writes and deletes each a bucket of 200 refilled at 10 a
 * second (reads 250 at 25, not modelled: amlguard's sweep reads through Resource Graph, and ARM enumeration
 * benchmarks would only measure the sandbox's refill). The limits apply per subscription, per service principal
 * and per operation type; a global subscription limit of 15 times that spans all principals.
 */
export const ARM_WRITE_BUCKET: BucketLimits = { capacity: 200, refillPerSecond: 10 };
export const GLOBAL_MULTIPLIER = 15;

type Operation = "writes" | "deletes";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The per-subscription write and delete buckets, on an injected clock (milliseconds) so tests never depend on
 * wall-clock time. `take` spends one token for a subscription-scoped write (PUT, PATCH, POST) or delete and returns
 * the header ARM reports the principal's remaining tokens in (`x-ms-ratelimit-remaining-subscription-writes` /
 * `-deletes`); an empty bucket (the principal's or the global one) is 429 SubscriptionRequestsThrottled with
 * Retry-After: the seconds until a token is back.
 */
export class SubscriptionThrottle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: BucketLimits,
    private readonly clock: () => number,
  ) {}

  /** Undefined for requests ARM does not count here: reads, and anything not under /subscriptions/{id}. */
  take(method: string, path: string, principalId: string): Record<string, string> | undefined {
    const operation: Operation | undefined = method === "DELETE" ? "deletes" : ["PUT", "PATCH", "POST"].includes(method) ? "writes" : undefined;
    const subscription = /^\/subscriptions\/([^/]+)/i.exec(path)?.[1]?.toLowerCase();
    if (!operation || !subscription) return undefined;
    const header = `x-ms-ratelimit-remaining-subscription-${operation}`;
    const now = this.clock();
    const own = this.refilled(`${subscription}|${operation}|${principalId}`, this.limits, now);
    const global = this.refilled(`${subscription}|${operation}|*`, scaled(this.limits, GLOBAL_MULTIPLIER), now);
    const empty = [own, global].find((b) => b.bucket.tokens < 1);
    if (empty) {
      const wait = empty.limits.refillPerSecond > 0 ? Math.ceil((1 - empty.bucket.tokens) / empty.limits.refillPerSecond) : 60;
      throw armErrors.subscriptionThrottled(operation === "writes" ? "write" : "delete", subscription, principalId, wait, { [header]: "0" });
    }
    own.bucket.tokens -= 1;
    global.bucket.tokens -= 1;
    return { [header]: String(Math.floor(own.bucket.tokens)) };
  }

  /** The bucket with the tokens that came back since it was last seen (never above its capacity). */
  private refilled(key: string, limits: BucketLimits, now: number): { bucket: Bucket; limits: BucketLimits } {
    const bucket = this.buckets.get(key) ?? { tokens: limits.capacity, at: now };
    const elapsedSeconds = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(limits.capacity, bucket.tokens + elapsedSeconds * limits.refillPerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    return { bucket, limits };
  }
}

function scaled(limits: BucketLimits, factor: number): BucketLimits {
  return { capacity: limits.capacity * factor, refillPerSecond: limits.refillPerSecond * factor };
}
