import { randomUUID } from "node:crypto";
import type { MlResourceId } from "../../arm/ids.js";
import { ML_PROVIDER, type JsonObject, type MlResourceKind } from "../../arm/resource.js";
import { armErrors, ArmSandboxError } from "../arm-errors.js";
import type { ResourceStore } from "../store.js";
import { normalizeLocation } from "./estate.js";
import type { Reply } from "./json.js";

/** The initial response of one operation: status code and which polling headers it carries. */
export interface LroShape {
  status: 200 | 201 | 202;
  sync?: boolean;
  asyncOperation?: boolean;
  location?: boolean;
  timeout?: boolean;
}

/** Initial responses per operation, as the 2025-09-01 spec and its examples declare them (docs/arm-spec-notes.md §7). */
export const LRO_SHAPES: Record<MlResourceKind, { create: LroShape; update: LroShape; patch: LroShape; delete: LroShape }> = {
  workspace: {
    create: { status: 202, location: true },
    update: { status: 202, location: true },
    patch: { status: 202, location: true },
    delete: { status: 202, location: true },
  },
  compute: {
    create: { status: 201, asyncOperation: true },
    update: { status: 200, asyncOperation: true },
    // Compute_Update declares only 200; its example carries Azure-AsyncOperation.
    patch: { status: 200, asyncOperation: true },
    delete: { status: 202, asyncOperation: true, location: true },
  },
  onlineEndpoint: {
    create: { status: 201, asyncOperation: true, timeout: true },
    update: { status: 200, asyncOperation: true, timeout: true },
    patch: { status: 202, location: true, timeout: true },
    delete: { status: 202, location: true, timeout: true },
  },
  onlineDeployment: {
    create: { status: 201, asyncOperation: true, timeout: true },
    update: { status: 200, asyncOperation: true, timeout: true },
    patch: { status: 202, location: true, timeout: true },
    delete: { status: 202, location: true, timeout: true },
  },
  registry: {
    create: { status: 201, asyncOperation: true },
    update: { status: 200, asyncOperation: true },
    // Registries_Update is not long-running.
    patch: { status: 200, sync: true },
    delete: { status: 202, location: true, timeout: true },
  },
};

// Compute start/stop/restart: 202; the stop and restart examples carry Azure-AsyncOperation, start's Location.
export const ACTION_SHAPE: LroShape = { status: 202, asyncOperation: true, location: true };

/** The operation-status routes Azure ML's front end (MFE) hands out in Azure-AsyncOperation and Location. */
export const OPERATION_PATH = new RegExp(
  `^/subscriptions/([^/]+)/providers/${ML_PROVIDER}/locations/[^/]+/(mfeOperationsStatus|mfeOperationResults)/([^/]+)$`,
  "i",
);

export interface LroOptions {
  /** Status polls a long-running operation needs before it completes. */
  pollsToComplete: number;
  /** Retry-After on LRO responses (Azure sends 10 or more; the sandbox defaults to 0). */
  retryAfterSeconds: number;
  /** Operations complete on their own after this long if nobody polls them. */
  durationMs: number;
}

export type OperationMethod = "PUT" | "PATCH" | "DELETE" | "POST";

export interface Operation {
  id: string;
  location: string;
  subscriptionId: string;
  method: OperationMethod;
  resourceKey: string;
  status: "InProgress" | "Succeeded" | "Failed";
  polls: number;
  startTime: string;
  endTime?: string;
  willFail: boolean;
  principalId: string;
  complete: () => void;
  fail: () => void;
}

export interface CompletedOperation {
  resourceId: string;
  method: string;
  status: "Succeeded" | "Failed";
  principalId: string;
}

/**
 * ARM's asynchronous operation protocol (ARM RPC async operations): an accepted write answers with the status and
 * headers its spec declares, the status resource says InProgress until the operation finishes, and the Location URL
 * answers 202 until done, then the final resource (or 204). Operations finish after enough polls or on their own.
 */
export class LroEngine {
  /** Every long-running operation that finished: what was written, by whom, and whether it took effect. */
  readonly completed: CompletedOperation[] = [];
  private readonly operations = new Map<string, Operation>();

  constructor(
    private readonly store: ResourceStore,
    private readonly endpoint: () => string,
    private readonly options: LroOptions,
  ) {}

  /**
   * Starts an operation on a resource; `complete` applies its effect, `fail` restores what an injected failure
   * leaves behind.
   */
  start(id: MlResourceId, method: OperationMethod, resourceKey: string, willFail: boolean, complete: () => void, fail: () => void, principalId = ""): Operation {
    const stored = this.store.get(resourceKey);
    const storedLocation = stored?.resource.location;
    const operation: Operation = {
      id: randomUUID(),
      location: normalizeLocation(typeof storedLocation === "string" ? storedLocation : "eastus"),
      subscriptionId: id.subscriptionId,
      method,
      resourceKey,
      status: "InProgress",
      polls: 0,
      startTime: new Date().toISOString(),
      willFail,
      principalId,
      complete,
      fail,
    };
    this.operations.set(operation.id, operation);
    // Operations also finish on their own, as in Azure, whether or not anyone polls.
    setTimeout(() => this.finish(operation), this.options.durationMs).unref();
    return operation;
  }

  /** The initial response of a long-running operation, with the status code and headers the spec declares for it. */
  accepted(operation: Operation, shape: LroShape): Reply {
    const base = `${this.endpoint()}/subscriptions/${operation.subscriptionId}/providers/${ML_PROVIDER}/locations/${operation.location}`;
    const query = `?api-version=2025-09-01`;
    const headers: Record<string, string> = { "Retry-After": String(this.options.retryAfterSeconds) };
    if (shape.asyncOperation) headers["Azure-AsyncOperation"] = `${base}/mfeOperationsStatus/${operation.id}${query}`;
    if (shape.location) headers.Location = `${base}/mfeOperationResults/${operation.id}${query}`;
    if (shape.timeout) headers["x-ms-async-operation-timeout"] = "PT1H";
    const stored = this.store.get(operation.resourceKey);
    if (shape.status === 202 || !stored) return { status: shape.status, body: undefined, headers };
    return { status: shape.status, body: stored.resource, headers: { ...headers, ETag: stored.etag } };
  }

  /** GET on an operation URL (`kind` is the lower-cased route: mfeoperationsstatus or mfeoperationresults). */
  poll(method: string, kind: string, operationId: string): Reply {
    if (method !== "GET") throw armErrors.methodNotAllowed(method);
    const operation = this.operations.get(operationId);
    if (!operation) throw new ArmSandboxError(404, "NotFound", `Operation '${operationId.slice(0, 64)}' was not found.`);
    operation.polls += 1;
    if (operation.polls >= this.options.pollsToComplete) this.finish(operation);
    const retry = { "Retry-After": String(this.options.retryAfterSeconds) };
    if (kind === "mfeoperationsstatus") {
      const body: JsonObject = {
        id: operation.id,
        name: operation.id,
        status: operation.status,
        startTime: operation.startTime,
        ...(operation.endTime ? { endTime: operation.endTime } : {}),
        ...(operation.status === "Failed"
          ? { error: { code: "OperationFailed", message: "The operation failed in the sandbox (injected lro-failure fault)." } }
          : {}),
      };
      return { status: 200, body, headers: operation.status === "InProgress" ? retry : {} };
    }
    // mfeOperationResults (the Location URL): 202 while running, then the final result.
    if (operation.status === "InProgress") return { status: 202, body: undefined, headers: retry };
    if (operation.status === "Failed") {
      throw new ArmSandboxError(409, "OperationFailed", "The operation failed in the sandbox (injected lro-failure fault).");
    }
    const stored = this.store.get(operation.resourceKey);
    if ((operation.method === "PATCH" || operation.method === "PUT") && stored) return { status: 200, body: stored.resource, headers: { ETag: stored.etag } };
    return { status: 204, body: undefined, headers: {} };
  }

  private finish(operation: Operation): void {
    if (operation.status !== "InProgress") return;
    operation.endTime = new Date().toISOString();
    this.completed.push({ resourceId: operation.resourceKey, method: operation.method, status: operation.willFail ? "Failed" : "Succeeded", principalId: operation.principalId });
    if (operation.willFail) {
      operation.status = "Failed";
      operation.fail();
    } else {
      operation.status = "Succeeded";
      operation.complete();
    }
  }
}
