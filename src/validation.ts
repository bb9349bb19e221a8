import type { z } from "zod";

/** How a field is known to the person who set it: a setting, a flag, a JSON field; secrets are never echoed. */
export interface FieldName {
  name: string;
  secret?: boolean;
}

/**
 * zod issues as sentences in the user's terms: the setting or flag, the value that was given (unless it is a secret),
 * and what it must be. Never a schema path like `rules.0` or zod's own wording. Parse with `{ reportInput: true }`.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], nameOf: (path: readonly PropertyKey[]) => FieldName, max = 5): string {
  const sentences = issues.slice(0, max).map((issue) => describeIssue(issue, nameOf));
  if (issues.length > max) sentences.push(`and ${issues.length - max} more problem(s)`);
  return [...new Set(sentences)].join("; ");
}

function describeIssue(issue: z.core.$ZodIssue, nameOf: (path: readonly PropertyKey[]) => FieldName): string {
  if (issue.code === "unrecognized_keys") {
    const { name } = nameOf(issue.path);
    return `${name ? `${name}: ` : ""}unknown field(s) ${issue.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}`;
  }
  const field = nameOf(issue.path);
  const index = issue.path.findLast((p) => typeof p === "number");
  const name = `${field.name}${typeof index === "number" ? ` (item ${index + 1})` : ""}`;
  const shown =
    !field.secret && issue.input !== undefined && typeof issue.input !== "object" && !CREDENTIAL_LIKE.test(String(issue.input)) && !issue.message.includes(String(issue.input));
  const given = shown ? `${inert(issue.input)} ` : "";
  if (issue.input === undefined && issue.code === "invalid_type") return `${name} is required`;
  return `${name}: ${given}${phrase(issue)}`;
}

// A value that looks like it carries a credential is not echoed even where the setting is not a secret.
const CREDENTIAL_LIKE = /sig=|AccountKey|SharedAccessSignature|password|secret|token|\/\/[^/@\s]*:[^/@\s]*@/i;

/** Our own messages ("must be a subscription GUID") are kept; zod's defaults ("Invalid option: …") are reworded. */
function phrase(issue: z.core.$ZodIssue): string {
  if (!/^(Invalid|Too (small|big)|Expected|Unrecognized)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_value":
      return `must be ${issue.values.length === 1 ? String(issue.values[0]) : `one of ${issue.values.slice(0, 20).map(String).join(", ")}`}`;
    case "invalid_type":
      return `must be ${{ string: "text", number: "a number", int: "a whole number", boolean: "true or false", array: "a list", object: "an object" }[issue.expected as string] ?? `a ${issue.expected}`}`;
    case "too_small":
      if (issue.origin === "string") return Number(issue.minimum) <= 1 ? "must not be empty" : `must be at least ${issue.minimum} characters`;
      if (issue.origin === "array" || issue.origin === "set") return `must list at least ${issue.minimum}`;
      return `must be at least ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters`;
      if (issue.origin === "array" || issue.origin === "set") return `must list at most ${issue.maximum}`;
      return `must be at most ${issue.maximum}`;
    case "invalid_format":
      if (issue.format === "url") return "must be a URL";
      if (issue.format === "email") return "must be an email address";
      if (issue.format === "starts_with") return `must start with ${(issue as { prefix?: string }).prefix ?? "the right prefix"}`;
      if (issue.format === "ends_with") return `must end with ${(issue as { suffix?: string }).suffix ?? "the right suffix"}`;
      return "is not in the expected form";
    default:
      return "is not valid";
  }
}

/** A value quoted for a message: at most 60 characters, control characters escaped (text from outside is inert). */
function inert(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
