import { app } from "@azure/functions";
import { loadConfig } from "../src/config.js";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createHttpHandlers } from "../src/handlers/http.js";

let access: ReturnType<typeof loadConfig>["http"] | undefined;
const handlers = createHttpHandlers(lazyAzureRuntime, () => (access ??= loadConfig().http));

// authLevel function (a key) on top of App Service authentication (the caller's Entra identity and roles).
app.http("remediate", { methods: ["POST"], authLevel: "function", route: "remediate", handler: handlers.remediate });
app.http("findings", { methods: ["GET"], authLevel: "function", route: "findings", handler: handlers.findings });
