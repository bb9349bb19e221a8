/**
 * The timer functions' schedules: the code owns each default, and a setting that overrides one is validated here, so
 * a typo is a clear error at start instead of a host that silently never runs the sweep.
 *
 * Azure Functions timer triggers take an NCRONTAB expression of six fields, `{second} {minute} {hour} {day} {month}
 * {day-of-week}` (the NCrontab library, with seconds first), or a TimeSpan `hh:mm:ss` that "can be used only for a
 * function app that runs on an App Service Plan" (Timer trigger for Azure Functions,
 * https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions and #timespan; the
 * same sentence is in @azure/functions' TimerTriggerOptions.schedule). amlguard is deployed on Flex Consumption
 * (infra/modules/app.bicep), so a TimeSpan is refused with that reason.
 */

/** Every timer, its setting and its default. */
export const SCHEDULE_DEFAULTS = {
  // Every minute: alerts reach Teams/email within about a minute, and a burst becomes one digest.
  AMLGUARD_OUTBOX_SCHEDULE: "0 */1 * * * *",
  // Daily at 03:00 UTC: the reconciliation sweep.
  AMLGUARD_SWEEP_SCHEDULE: "0 0 3 * * *",
  // Every 15 minutes: the failed-authentication spike detector.
  AMLGUARD_SPIKES_SCHEDULE: "0 */15 * * * *",
} as const;

export type ScheduleSetting = keyof typeof SCHEDULE_DEFAULTS;

const FIELDS = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { name: "day-of-week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
] as const;

type Field = (typeof FIELDS)[number];

/** A problem with a schedule, in the user's terms; undefined when it is a valid NCRONTAB expression. */
export function scheduleProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (/^(\d+\.)?\d{1,2}:\d{2}(:\d{2})?$/.test(text)) {
    return "is a TimeSpan, which Azure Functions accepts only on an App Service plan; amlguard runs on Flex Consumption: use NCRONTAB, like \"0 */5 * * * *\" for every 5 minutes";
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 6) {
    const hint = fields.length === 5 ? `; Azure Functions puts seconds first: did you mean "0 ${fields.join(" ")}"?` : "";
    return `has ${fields.length} field(s); an NCRONTAB schedule has six: {second} {minute} {hour} {day} {month} {day-of-week}, like "0 0 3 * * *" for 03:00 daily${hint}`;
  }
  for (const [i, field] of FIELDS.entries()) {
    const problem = fieldProblem(fields[i]!, field);
    if (problem) return `${field.name} field "${fields[i]!.slice(0, 30)}" ${problem}`;
  }
  return undefined;
}

function valueOf(text: string, field: Field): number | undefined {
  if (/^\d{1,2}$/.test(text)) return Number(text);
  const index = "names" in field ? (field.names as readonly string[]).indexOf(text.toLowerCase()) : -1;
  if (index < 0) return undefined;
  return field.name === "month" ? index + 1 : index;
}

function fieldProblem(text: string, field: Field): string | undefined {
  const allowed = `${field.min}-${field.max}${"names" in field ? ` or names (${field.names[0]}…)` : ""}`;
  for (const part of text.split(",")) {
    const [range, step, extra] = part.split("/");
    if (extra !== undefined || range === undefined || range === "") return `is not valid: use *, a value, a range a-b, a list a,b or a step */n (values ${allowed})`;
    if (step !== undefined && !(/^\d{1,2}$/.test(step) && Number(step) >= 1)) return `has step "${step}": a step is a whole number of at least 1`;
    if (range === "*") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return `is not valid: use *, a value, a range a-b, a list a,b or a step */n (values ${allowed})`;
    const values = bounds.map((b) => valueOf(b, field));
    if (values.some((v) => v === undefined || v < field.min || v > field.max)) return `is out of range: values ${allowed}`;
    if (values.length === 2 && values[0]! > values[1]!) return `has a range that runs backwards ("${range}")`;
  }
  return undefined;
}

/** The validated schedule of one timer: the setting when set, else the code's default. Throws the reason otherwise. */
export function timerSchedule(setting: ScheduleSetting, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[setting]?.trim();
  if (!value) return SCHEDULE_DEFAULTS[setting];
  const problem = scheduleProblem(value);
  if (problem) throw new ScheduleError(`invalid configuration: ${setting}: ${JSON.stringify(value.slice(0, 60))} ${problem}`);
  return value;
}

export class ScheduleError extends Error {
  override name = "ConfigError";
}
