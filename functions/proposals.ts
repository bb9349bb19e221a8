import { app } from "@azure/functions";
import { validatorFor } from "../src/auth/entra-token.js";
import { loadConfig } from "../src/config.js";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createHttpHandlers } from "../src/handlers/http.js";
import { approvalPageConfigOf } from "../src/approval-page/config.js";

let config: ReturnType<typeof loadConfig> | undefined;
const settings = (): ReturnType<typeof loadConfig> => (config ??= loadConfig());

/** The approval page's settings (src/approval-page/config.ts): the SPA registration, tenant, authority and API scope. */
const approvalPageConfig = () => approvalPageConfigOf(settings());

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
// "Exempt instead…" from the page: POST /api/exemptions needs a function key, which a page cannot hold.
app.http("proposals-exempt", { methods: ["POST"], authLevel: "anonymous", route: "proposals/{id}/exempt", handler: handlers.exemptProposal });
