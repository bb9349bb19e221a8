import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ArmResource } from "../../src/arm/resource.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures");

/** The response body of one of Azure's published REST examples (test/fixtures/arm, sources in SOURCES.md). */
export function armExample(name: string, status = "200"): ArmResource {
  const example = JSON.parse(readFileSync(join(FIXTURES, "arm", `${name}.json`), "utf8")) as {
    responses: Record<string, { body: ArmResource }>;
  };
  const response = example.responses[status];
  if (!response) throw new Error(`fixture ${name} has no ${status} response`);
  return structuredClone(response.body);
}

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

/** A copy of the resource with a change applied, for one-property variations of a real example. */
export function variant(resource: ArmResource, change: (copy: ArmResource & Record<string, any>) => void): ArmResource {
  const copy = structuredClone(resource) as ArmResource & Record<string, any>;
  change(copy);
  return copy;
}

/**
 * Azure's Workspace Get example with the two settings it lacks for every workspace rule (it is already private,
 * CMK-encrypted, with an approved private endpoint): an outbound-restricted managed network and its user-assigned
 * identity as the primary one.
 */
export function compliantWorkspaceExample(): ArmResource {
  return variant(armExample("workspace-get"), (w) => {
    w.properties.managedNetwork = { isolationMode: "AllowOnlyApprovedOutbound" };
    w.properties.primaryUserAssignedIdentity = Object.keys(w.identity.userAssignedIdentities)[0];
  });
}
