import { randomUUID } from "node:crypto";
import type { JsonObject } from "../arm/resource.js";

/** Who called the sandbox: what ARM would put in the event's claims and authorization evidence. */
export interface SandboxPrincipal {
  objectId: string;
  /** Application (client) id, for service principals and managed identities. */
  appId?: string;
  name: string;
  type: "User" | "ServicePrincipal";
}

export const SANDBOX_TENANT_ID = "72f988bf-0000-4000-8000-00000000cafe";

export type ResourceEventType =
  | "Microsoft.Resources.ResourceWriteSuccess"
  | "Microsoft.Resources.ResourceActionSuccess"
  | "Microsoft.Resources.ResourceDeleteSuccess";

/**
 * An Azure subscription system-topic event in the Event Grid schema, shaped like Azure's published sample
 * (test/fixtures/events/resource-write-success.eventgrid.json; docs/eventgrid-notes.md): claims carry the caller's
 * object id and app id, authorization.evidence the role assignment's principal.
 */
export function resourceEvent(input: {
  eventType: ResourceEventType;
  resourceUri: string;
  operationName: string;
  principal: SandboxPrincipal;
  method: string;
  url: string;
  /**
   * The operation's correlation id: the caller's `x-ms-correlation-request-id` when it sent one (server.ts), else a
   * fresh one.
   */
  correlationId?: string;
  /** The provider the operation belongs to (Microsoft.Resources for the Tags API). */
  resourceProvider?: string;
}): JsonObject {
  const subscriptionId = input.resourceUri.split("/")[2]!;
  const claims: JsonObject = {
    aud: "https://management.core.windows.net/",
    iss: `https://sts.windows.net/${SANDBOX_TENANT_ID}/`,
    "http://schemas.microsoft.com/identity/claims/objectidentifier": input.principal.objectId,
    "http://schemas.microsoft.com/identity/claims/tenantid": SANDBOX_TENANT_ID,
    name: input.principal.name,
    ver: "1.0",
  };
  if (input.principal.appId) claims.appid = input.principal.appId;
  if (input.principal.type === "User") claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = input.principal.name;
  const correlationId = input.correlationId ?? randomUUID();
  return {
    subject: input.resourceUri,
    eventType: input.eventType,
    eventTime: new Date().toISOString(),
    id: randomUUID(),
    data: {
      authorization: {
        scope: input.resourceUri,
        action: input.operationName,
        evidence: {
          role: "Contributor",
          roleAssignmentScope: `/subscriptions/${subscriptionId}`,
          roleAssignmentId: randomUUID().replace(/-/g, ""),
          roleDefinitionId: "b24988ac618042a0ab8820f7382dd24c",
          principalId: input.principal.objectId.replace(/-/g, ""),
          principalType: input.principal.type,
        },
      },
      claims,
      correlationId,
      httpRequest: { clientRequestId: randomUUID(), clientIpAddress: "127.0.0.1", method: input.method, url: input.url },
      resourceProvider: input.resourceProvider ?? "Microsoft.MachineLearningServices",
      resourceUri: input.resourceUri,
      operationName: input.operationName,
      status: "Succeeded",
      subscriptionId,
      tenantId: SANDBOX_TENANT_ID,
    },
    dataVersion: "2",
    metadataVersion: "1",
    topic: `/subscriptions/${subscriptionId}`,
  };
}
