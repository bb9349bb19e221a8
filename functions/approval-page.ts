import { app } from "@azure/functions";
import { approvalPageConfigOf } from "../src/approval-page/config.js";
import { loadConfig } from "../src/config.js";
import { createApprovalPageHandlers } from "../src/handlers/approval-page.js";

let config: ReturnType<typeof loadConfig> | undefined;
const handlers = createApprovalPageHandlers(() => approvalPageConfigOf((config ??= loadConfig())));

// Anonymous: the page's script, style and MSAL's browser bundle, and the page Entra returns the person to (a fixed
// redirect URI of the SPA registration). No data and no secret: the page calls the API with the person's token.
app.http("approvalPage", { methods: ["GET"], authLevel: "anonymous", route: "approval-page/{file}", handler: handlers.file });
