import azureFunctions, { type LogHandler } from "@azure/functions";
import { randomUUID } from "node:crypto";

// @azure/functions is CommonJS; Node's ESM loader sees only some of its named exports, so take the class from the
// default export.
const { InvocationContext } = azureFunctions;

/** An @azure/functions InvocationContext (its own test mode), for invoking handlers outside the Functions host. */
export function newInvocationContext(functionName: string, logHandler: LogHandler = () => undefined): InstanceType<typeof InvocationContext> {
  return new InvocationContext({ invocationId: randomUUID(), functionName, logHandler });
}
