import { app } from "@azure/functions";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createSweepHandler } from "../src/handlers/sweep.js";
import { timerSchedule } from "../src/schedule.js";

// AMLGUARD_SWEEP_SCHEDULE, validated, or the code's default (daily at 03:00: src/schedule.ts): reconcile the whole
// estate through Resource Graph.
app.timer("sweep", { schedule: timerSchedule("AMLGUARD_SWEEP_SCHEDULE"), handler: createSweepHandler(lazyAzureRuntime) });
