import { app } from "@azure/functions";
import { validatorFor } from "../src/auth/entra-token.js";
import { loadConfig } from "../src/config.js";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createHttpHandlers } from "../src/handlers/http.js";

let config: ReturnType<typeof loadConfig> | undefined;
const settings = (): ReturnType<typeof loadConfig> => (config ??= loadConfig());
const handlers = createHttpHandlers(lazyAzureRuntime, () => settings().http, () => {
  const auth = settings().auth;
  return auth ? validatorFor(auth) : undefined;
});

// authLevel function (a key) on top of the caller's Entra access token, validated in-process (src/auth/entra-token.ts).
app.http("remediate", { methods: ["POST"], authLevel: "function", route: "remediate", handler: handlers.remediate });
app.http("findings", { methods: ["GET"], authLevel: "function", route: "findings", handler: handlers.findings });
// Exemptions: approving and revoking need AmlGuard.Exempt (AMLGUARD_HTTP_EXEMPT_ROLE); listing, that or the read role.
app.http("exemptions-approve", { methods: ["POST"], authLevel: "function", route: "exemptions", handler: handlers.approveExemption });
app.http("exemptions-list", { methods: ["GET"], authLevel: "function", route: "exemptions", handler: handlers.listExemptions });
app.http("exemptions-revoke", { methods: ["DELETE"], authLevel: "function", route: "exemptions/{id}", handler: handlers.revokeExemption });
