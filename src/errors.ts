import { ArmError } from "./azure/arm-client.js";

/** One line about an error, safe for logs, audit rows and callers: no stack, no request headers. */
export function describeError(error: unknown): string {
  if (error instanceof ArmError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message.split("\n")[0]!.slice(0, 500)}`;
  return "unknown error";
}
