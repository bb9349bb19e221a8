import { app } from "@azure/functions";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createSweepHandler } from "../src/handlers/sweep.js";

// Daily by default (AMLGUARD_SWEEP_SCHEDULE): reconcile the whole estate through Resource Graph.
app.timer("sweep", { schedule: "%AMLGUARD_SWEEP_SCHEDULE%", handler: createSweepHandler(lazyAzureRuntime) });
