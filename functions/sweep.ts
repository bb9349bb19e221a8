import { app } from "@azure/functions";
import { lazyAzureRuntime } from "../src/functions/event-grid.js";
import { createSweepHandler } from "../src/functions/sweep.js";

// Daily by default (AMLGUARD_SWEEP_SCHEDULE): reconcile the whole estate through Resource Graph.
app.timer("sweep", { schedule: "%AMLGUARD_SWEEP_SCHEDULE%", handler: createSweepHandler(lazyAzureRuntime) });
