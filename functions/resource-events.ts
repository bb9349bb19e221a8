import { app } from "@azure/functions";
import { createEventGridHandler, lazyAzureRuntime } from "../src/functions/event-grid.js";

// Subscription system topic: Microsoft.Resources.ResourceWriteSuccess / ResourceActionSuccess (filtered in infra/).
app.eventGrid("resourceEvents", { handler: createEventGridHandler(lazyAzureRuntime) });
