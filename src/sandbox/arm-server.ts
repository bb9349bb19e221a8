// The ARM sandbox lives in ./arm/ (one file per concern); this path is kept for the callers that import it.
export { ArmSandbox, SANDBOX_OPERATOR, type ArmSandboxOptions, type RequestRecord } from "./arm/server.js";
