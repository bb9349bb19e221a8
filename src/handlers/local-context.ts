import azureFunctions, { type InvocationContext, type LogHandler } from "@azure/functions";
import { randomUUID } from "node:crypto";

// @azure/functions is CommonJS; Node's ESM loader sees only some of its named exports, so take the class from the
// default export.
const { InvocationContext: Context } = azureFunctions;

/** An @azure/functions InvocationContext (its own test mode), for invoking handlers outside the Functions host. */
export function newInvocationContext(functionName: string, logHandler: LogHandler = () => undefined): InvocationContext {
  return new Context({ invocationId: randomUUID(), functionName, logHandler });
}
