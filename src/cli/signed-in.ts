import type { TokenCredential } from "@azure/core-auth";
import { explainCredentialError } from "../adapters.js";
import { AuthorityUnavailableError, CallerAuthenticationError, validatorFor } from "../auth/entra-token.js";
import type { AmlguardConfig } from "../config.js";
import { authorized, roleNamed, type Need } from "../handlers/http.js";
import type { Actor } from "../state/audit.js";
import { UsageError } from "./io.js";

/**
 * The person deciding from the CLI (approving or revoking an exemption, a proposal): the signed-in identity, proven
 * the way the HTTP API proves a caller. The CLI asks its credential (az login, a service principal) for an access
 * token to amlguard's API, validates it in-process against the tenant's keys, and checks the same app role. So the
 * CLI is not a way around the role or the four-eyes rule: the approver recorded is the token's object id, never the
 * operating system's user name.
 */
export async function signedInDecider(config: AmlguardConfig, credential: TokenCredential, need: Need, what: string, options: { ca?: string } = {}): Promise<Actor> {
  if (!config.auth) {
    throw new UsageError(
      `${what} needs AMLGUARD_AUTH_TENANT_ID and AMLGUARD_AUTH_AUDIENCE: the decider is the signed-in identity, checked like a caller of the HTTP API (its token for amlguard's API must carry the ${roleNamed(need, config.http)} role)`,
    );
  }
  // `{client id or app id URI}/.default`: the API's app roles assigned to the signed-in principal (Entra v2 scopes).
  const scope = `${config.auth.audiences[0]!.replace(/\/+$/, "")}/.default`;
  let token: string | undefined;
  try {
    token = (await credential.getToken(scope))?.token;
  } catch (error) {
    const explained = explainCredentialError(error);
    throw new UsageError(`${what}: no access token for amlguard's API (${scope}): ${explained?.message ?? "the credential refused"}`);
  }
  if (!token) throw new UsageError(`${what}: the signed-in identity got no access token for amlguard's API (${scope})`);
  try {
    const caller = await validatorFor(config.auth, options).authenticate(`Bearer ${token}`);
    const who = caller.name ?? caller.objectId;
    if (!authorized(caller, need, config.http)) throw new UsageError(`${what} needs the ${roleNamed(need, config.http)} role on amlguard's API; ${who} does not hold it`);
    return { objectId: caller.objectId, ...(caller.name ? { name: caller.name } : {}), ...(caller.appId ? { appId: caller.appId } : {}), principalType: "User" };
  } catch (error) {
    if (error instanceof CallerAuthenticationError || error instanceof AuthorityUnavailableError) throw new UsageError(`${what}: ${error.message}`);
    throw error;
  }
}
