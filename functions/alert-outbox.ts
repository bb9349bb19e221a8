import { app } from "@azure/functions";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createOutboxHandler } from "../src/handlers/outbox.js";

// Every minute by default: alerts reach Teams/email within about a minute, and a burst becomes one digest.
app.timer("alertOutbox", { schedule: "%AMLGUARD_OUTBOX_SCHEDULE%", handler: createOutboxHandler(lazyAzureRuntime) });
