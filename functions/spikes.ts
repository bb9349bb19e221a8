import { app } from "@azure/functions";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createSpikesHandler } from "../src/handlers/spikes.js";
import { timerSchedule } from "../src/schedule.js";

// AMLGUARD_SPIKES_SCHEDULE, validated, or the code's default (every 15 minutes: src/schedule.ts).
app.timer("authSpikes", { schedule: timerSchedule("AMLGUARD_SPIKES_SCHEDULE"), handler: createSpikesHandler(lazyAzureRuntime) });
