import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config.js";
import { SCHEDULE_DEFAULTS, scheduleProblem, timerSchedule } from "../src/schedule.js";

// The registrations call app.timer at import: record what they register instead of starting a host.
const registered = vi.hoisted(() => new Map<string, string>());
vi.mock("@azure/functions", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@azure/functions")>();
  return { ...actual, app: { ...actual.app, timer: (name: string, options: { schedule: string }) => void registered.set(name, options.schedule) } };
});

describe("timer schedules: the code owns the defaults and validates NCRONTAB", () => {
  it("accepts six-field NCRONTAB expressions as the Azure Functions docs write them", () => {
    for (const expression of [...Object.values(SCHEDULE_DEFAULTS), "0 30 9 * Jan Mon", "0 0 9-17 * * *", "0 30 9 * * 1-5", "*/10 * * * * *", "0 0,30 * * * *", "0 0 */2 * * *"]) {
      expect(scheduleProblem(expression), expression).toBeUndefined();
    }
  });

  it.each([
    ["*/5 * * * *", /has 5 field\(s\).*did you mean "0 \*\/5 \* \* \* \*"\?/],
    ["00:05:00", /TimeSpan.*only on an App Service plan.*Flex Consumption/],
    ["0 61 * * * *", /minute field "61" is out of range: values 0-59/],
    ["0 0 25 * * *", /hour field "25" is out of range: values 0-23/],
    ["0 0 3 0 * *", /day field "0" is out of range: values 1-31/],
    ["0 0 3 * Foo *", /month field "Foo" is out of range/],
    ["0 0 3 * * 7", /day-of-week field "7" is out of range: values 0-6/],
    ["0 */0 * * * *", /step "0"/],
    ["0 30-10 * * * *", /runs backwards/],
    ["daily", /has 1 field\(s\)/],
  ])("refuses %j with the reason in the user's terms", (expression, reason) => {
    expect(scheduleProblem(expression)).toMatch(reason);
  });

  it("a setting overrides the default; unset or empty means the default; a bad one names the setting and value", () => {
    expect(timerSchedule("AMLGUARD_SWEEP_SCHEDULE", {})).toBe("0 0 3 * * *");
    expect(timerSchedule("AMLGUARD_SWEEP_SCHEDULE", { AMLGUARD_SWEEP_SCHEDULE: "" })).toBe("0 0 3 * * *");
    expect(timerSchedule("AMLGUARD_SWEEP_SCHEDULE", { AMLGUARD_SWEEP_SCHEDULE: "0 0 4 * * *" })).toBe("0 0 4 * * *");
    expect(() => timerSchedule("AMLGUARD_SWEEP_SCHEDULE", { AMLGUARD_SWEEP_SCHEDULE: "0 4 * * *" })).toThrow(/^invalid configuration: AMLGUARD_SWEEP_SCHEDULE: "0 4 \* \* \*" has 5 field/);
  });

  it("loadConfig validates the schedules too (one message per setting, no schema path)", () => {
    expect(() => loadConfig({ AMLGUARD_SPIKES_SCHEDULE: "every 15 minutes" })).toThrow(/AMLGUARD_SPIKES_SCHEDULE: "every 15 minutes" has 3 field\(s\); an NCRONTAB schedule has six/);
    expect(() => loadConfig({ AMLGUARD_OUTBOX_SCHEDULE: "00:01:00" })).toThrow(/AMLGUARD_OUTBOX_SCHEDULE: "00:01:00" is a TimeSpan/);
    expect(() => loadConfig({})).not.toThrow();
  });
});

describe("timer registrations read the validated schedule", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    registered.clear();
    vi.resetModules();
  });

  it("registers the code's defaults when no setting is given (a %SETTING% expression would break the host)", async () => {
    for (const name of Object.keys(SCHEDULE_DEFAULTS)) delete process.env[name];
    await Promise.all([import("../functions/sweep.js"), import("../functions/spikes.js"), import("../functions/alert-outbox.js")]);
    expect(Object.fromEntries(registered)).toEqual({ sweep: "0 0 3 * * *", authSpikes: "0 */15 * * * *", alertOutbox: "0 */1 * * * *" });
  });

  it("registers a valid override and refuses an invalid one with the setting's name", async () => {
    process.env.AMLGUARD_SWEEP_SCHEDULE = "0 30 2 * * *";
    await import("../functions/sweep.js");
    expect(registered.get("sweep")).toBe("0 30 2 * * *");
    vi.resetModules();
    process.env.AMLGUARD_SPIKES_SCHEDULE = "*/15 * * * *";
    await expect(import("../functions/spikes.js")).rejects.toThrow(/AMLGUARD_SPIKES_SCHEDULE: "\*\/15 \* \* \* \*" has 5 field/);
  });
});

describe("duration settings: whole numbers in the unit their name says", () => {
  it.each([
    ["AMLGUARD_ALERT_TTL_HOURS", "24h", /AMLGUARD_ALERT_TTL_HOURS: "24h" must be a whole number of hours \(the unit is in the setting's name\), from 1 to 168 hours/],
    ["AMLGUARD_ALERT_TTL_HOURS", "0", /AMLGUARD_ALERT_TTL_HOURS: "0" must be from 1 to 168 hours/],
    ["AMLGUARD_ALERT_DEDUPE_MINUTES", "1.5", /AMLGUARD_ALERT_DEDUPE_MINUTES: "1.5" must be a whole number of minutes/],
    ["AMLGUARD_ALERT_DEDUPE_MINUTES", "10081", /must be from 0 to 10080 minutes/],
    ["AMLGUARD_EXEMPTION_MAX_DAYS", "90d", /AMLGUARD_EXEMPTION_MAX_DAYS: "90d" must be a whole number of days/],
    ["AMLGUARD_EXEMPTION_MAX_DAYS", "400", /AMLGUARD_EXEMPTION_MAX_DAYS: "400" must be from 1 to 366 days/],
  ])("%s=%j is refused with the unit and range", (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it("reads valid values and applies the defaults", () => {
    const config = loadConfig({ AMLGUARD_ALERT_TTL_HOURS: " 48 ", AMLGUARD_ALERT_DEDUPE_MINUTES: "0", AMLGUARD_EXEMPTION_MAX_DAYS: "30" });
    expect([config.alerts.ttlMs, config.alerts.dedupeWindowMs, config.http.exemptionMaxDays]).toEqual([48 * 3_600_000, 0, 30]);
    const defaults = loadConfig({});
    expect([defaults.alerts.ttlMs, defaults.alerts.dedupeWindowMs, defaults.http.exemptionMaxDays]).toEqual([24 * 3_600_000, 60 * 60_000, 90]);
  });
});
