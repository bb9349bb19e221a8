import { app } from "@azure/functions";
import { lazyAzureRuntime } from "../src/handlers/invocation.js";
import { createOutboxHandler } from "../src/handlers/outbox.js";
import { timerSchedule } from "../src/schedule.js";

// AMLGUARD_OUTBOX_SCHEDULE, validated, or the code's default (every minute: src/schedule.ts). Read here rather than as a
// %AMLGUARD_OUTBOX_SCHEDULE% binding expression, which the host cannot resolve when the setting is unset.
app.timer("alertOutbox", { schedule: timerSchedule("AMLGUARD_OUTBOX_SCHEDULE"), handler: createOutboxHandler(lazyAzureRuntime) });
