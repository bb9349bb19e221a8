import { app } from "@azure/functions";
import { createEventGridHandler } from "../src/handlers/event-grid.js";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";

// Subscription system topic: Microsoft.Resources.ResourceWriteSuccess / ResourceActionSuccess (filtered in infra/).
app.eventGrid("resourceEvents", { handler: createEventGridHandler(lazyAzureRuntime) });
