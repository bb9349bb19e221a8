import type { InvocationContext } from "@azure/functions";
import { explainCredentialError } from "../adapters.js";
import { loadConfig } from "../config.js";
import { describeError } from "../errors.js";
import type { Logger } from "../log.js";
import { createAzureRuntime, depsFor, type Runtime } from "../runtime.js";
import { emitCounters, NO_COUNTS, type Counters } from "../telemetry.js";

/**
 * What every handler gets from its invocation (in the spirit of Powertools' makeIdempotent or Probot's per-event
 * context): a logger carrying the invocation's fields, the runtime, and the correlation id when one is known.
 */
export interface Invocation {
  context: InvocationContext;
  log: Logger;
  /** The correlation id of this invocation, when the trigger carries one or the handler makes one (HTTP). */
  correlationId?: string;
  /** The runtime, made on first use (HTTP refuses unauthenticated callers before touching it). */
  runtime(): Promise<Runtime>;
  /** The pipeline's dependencies over the runtime, logging through this invocation. */
  deps(): Promise<ReturnType<typeof depsFor>>;
}

export interface Handled<T> {
  result: T;
  /** What the invocation did, for the `amlguard.metrics` line (src/telemetry.ts); zeros when absent. */
  counters?: Counters;
}

export interface InvocationOptions<TIn, TOut> {
  /** The telemetry source ("event-grid", "sweep", …). */
  source: string;
  getRuntime: () => Promise<Runtime>;
  /** Fields the trigger carries (event id, correlation id), added to every log line. */
  fields?: (input: TIn) => Record<string, string | undefined>;
  /** Timers: what to say when the run is late (`timer.isPastDue`). */
  late?: string;
  /**
   * A failure the handler did not answer itself, after it was logged (one line, no stack) and counted: rethrow where
   * the trigger must retry (Event Grid redelivers), or an answer (HTTP 500); timers log and return.
   */
  onError: (failure: InvocationFailure, invocation: Invocation) => TOut;
}

/** A failure as it may leave the handler: its name and one safe line, no stack (the host logs what it is thrown). */
export class InvocationFailure extends Error {
  constructor(error: unknown) {
    const reason = explainCredentialError(error)?.message ?? describeError(error);
    super(reason);
    this.name = error instanceof Error ? error.name : "Error";
    this.stack = `${this.name}: ${reason}`;
  }
}

/** Wraps a handler so that every trigger gets the same logger, runtime, late-run warning, errors and counters. */
export function withInvocation<TIn, TOut>(options: InvocationOptions<TIn, TOut>, handle: (input: TIn, invocation: Invocation) => Promise<Handled<TOut>>) {
  return async (input: TIn, context: InvocationContext): Promise<TOut> => {
    const known = Object.fromEntries(Object.entries(options.fields?.(input) ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
    const log = contextLogger(context, { invocationId: context.invocationId, functionName: context.functionName, ...known });
    let runtime: Promise<Runtime> | undefined;
    const invocation: Invocation = {
      context,
      log,
      ...(known.correlationId ? { correlationId: known.correlationId } : {}),
      runtime: () => (runtime ??= options.getRuntime()),
      deps: async () => depsFor(await invocation.runtime(), log),
    };
    if (options.late && isPastDue(input)) log.warn(options.late);
    try {
      const { result, counters } = await handle(input, invocation);
      emitCounters(log, options.source, counters ?? NO_COUNTS);
      return result;
    } catch (error) {
      const failure = new InvocationFailure(error);
      log.error(`amlguard ${context.functionName} failed: ${failure.message}`);
      emitCounters(log, options.source, { ...NO_COUNTS, failures: 1 });
      return options.onError(failure, invocation);
    }
  };
}

/** For triggers that retry: Event Grid redelivers when the handler throws. */
export function rethrow(failure: InvocationFailure): never {
  throw failure;
}

function isPastDue(input: unknown): boolean {
  return typeof input === "object" && input !== null && (input as { isPastDue?: unknown }).isPastDue === true;
}

/**
 * Logs through the invocation, so lines land in Application Insights with the invocation's id. Fields are JSON on
 * the same line (the worker would otherwise format them with util.inspect), so KQL can parse_json them.
 */
export function contextLogger(context: InvocationContext, base: Record<string, unknown> = {}): Logger {
  const merged = (message: string, fields?: Record<string, unknown>): string => {
    // A field the line leaves undefined does not hide the invocation's own (JSON would drop both).
    const all = { ...base, ...Object.fromEntries(Object.entries(fields ?? {}).filter(([, value]) => value !== undefined)) };
    return Object.keys(all).length ? `${message} ${JSON.stringify(all)}` : message;
  };
  // Every line of an invocation repeats its fields: serialise them once, and append each line's own fields (the same
  // text as `merged`). A line whose field names one of the invocation's, or an index-like key (which JSON orders
  // first), takes `merged`.
  const baseJson = Object.entries(base).every(([key, value]) => value !== undefined && plainKey(key)) && Object.keys(base).length ? JSON.stringify(base) : undefined;
  const line = (message: string, fields?: Record<string, unknown>): string => {
    if (baseJson === undefined) return merged(message, fields);
    if (!fields) return `${message} ${baseJson}`;
    if (typeof fields.toJSON === "function") return merged(message, fields);
    for (const key of Object.keys(fields)) if (Object.hasOwn(base, key) || !plainKey(key)) return merged(message, fields);
    const own = JSON.stringify(fields);
    return own === "{}" ? `${message} ${baseJson}` : `${message} ${baseJson.slice(0, -1)},${own.slice(1)}`;
  };
  return {
    info: (message, fields) => context.log(line(message, fields)),
    warn: (message, fields) => context.warn(line(message, fields)),
    error: (message, fields) => context.error(line(message, fields)),
  };
}

/** A key JSON.stringify keeps in insertion order (not an array index) and spreading copies as written. */
function plainKey(key: string): boolean {
  const first = key.charCodeAt(0);
  return !(first >= 48 && first <= 57) && key !== "__proto__";
}

let azureRuntime: Promise<Runtime> | undefined;

/** Made on first use and kept for the life of the worker, so warm invocations reuse clients and connections. */
export function lazyAzureRuntime(): Promise<Runtime> {
  azureRuntime ??= createAzureRuntime(loadConfig()).catch((error: unknown) => {
    azureRuntime = undefined;
    throw error;
  });
  return azureRuntime;
}
