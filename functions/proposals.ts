import { app } from "@azure/functions";
import { validatorFor } from "../src/auth/entra-token.js";
import { loadConfig } from "../src/config.js";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createHttpHandlers } from "../src/handlers/http.js";
import type { ApprovalPageConfig } from "../src/handlers/proposals.js";

let config: ReturnType<typeof loadConfig> | undefined;
const settings = (): ReturnType<typeof loadConfig> => (config ??= loadConfig());

/** The page signs people in against the API's own registration (its client id, the GUID audience) for its scope. */
function approvalPageConfig(): ApprovalPageConfig | undefined {
  const auth = settings().auth;
  const clientId = auth?.audiences.find((a) => /^[0-9a-f-]{36}$/i.test(a));
  if (!auth || !clientId) return undefined;
  const appIdUri = auth.audiences.find((a) => /^api:\/\//i.test(a)) ?? `api://${clientId}`;
  return { tenantId: auth.tenantId, clientId, authorityHost: auth.authorityHost, apiScope: `${appIdUri}/user_impersonation`, apiBase: "/api" };
}

const handlers = createHttpHandlers(
  lazyAzureRuntime,
  () => settings().http,
  () => {
    const auth = settings().auth;
    return auth ? validatorFor(auth) : undefined;
  },
  approvalPageConfig,
);

// authLevel anonymous: these routes are opened from links in alerts, and a function key in a link would be a secret
// sent to every channel. Every call is still authenticated in-process with the caller's Entra access token (as the
// rest of the API is); only GET /api/proposals/{id} without a token and asking for HTML gets the sign-in page, which
// holds no proposal data.
app.http("proposals-list", { methods: ["GET"], authLevel: "anonymous", route: "proposals", handler: handlers.listProposals });
app.http("proposals-get", { methods: ["GET"], authLevel: "anonymous", route: "proposals/{id}", handler: handlers.getProposal });
app.http("proposals-approve", { methods: ["POST"], authLevel: "anonymous", route: "proposals/{id}/approve", handler: handlers.approveProposal });
app.http("proposals-reject", { methods: ["POST"], authLevel: "anonymous", route: "proposals/{id}/reject", handler: handlers.rejectProposal });
