import { app } from "@azure/functions";
import { lazyAzureRuntime } from "../src/functions/event-grid.js";
import { createSpikesHandler } from "../src/functions/spikes.js";

// AMLGUARD_SPIKES_SCHEDULE (NCRONTAB), every 15 minutes by default.
app.timer("authSpikes", { schedule: "%AMLGUARD_SPIKES_SCHEDULE%", handler: createSpikesHandler(lazyAzureRuntime) });
