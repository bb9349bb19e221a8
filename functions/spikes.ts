import { app } from "@azure/functions";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createSpikesHandler } from "../src/handlers/spikes.js";

// AMLGUARD_SPIKES_SCHEDULE (NCRONTAB), every 15 minutes by default.
app.timer("authSpikes", { schedule: "%AMLGUARD_SPIKES_SCHEDULE%", handler: createSpikesHandler(lazyAzureRuntime) });
