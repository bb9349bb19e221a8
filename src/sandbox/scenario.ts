import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { ArmResource } from "../arm/resource.js";
import { packageRoot } from "../paths.js";

const resourceSchema = z.looseObject({ id: z.string().min(1), properties: z.record(z.string(), z.unknown()).optional() });

/** A sandbox estate: ARM resources (raw JSON, type derived from id) and any extra empty resource groups. */
export const scenarioSchema = z.object({
  description: z.string(),
  resourceGroups: z.array(z.object({ subscriptionId: z.string(), name: z.string() })).default([]),
  resources: z.array(resourceSchema),
});

export interface Scenario {
  description: string;
  resourceGroups: Array<{ subscriptionId: string; name: string }>;
  resources: ArmResource[];
}

export async function loadScenario(path: string): Promise<Scenario> {
  const json: unknown = JSON.parse(await readFile(path, "utf8"));
  const parsed = scenarioSchema.parse(json);
  // The server derives type, name and systemData from the id; the file only needs what a user would write.
  return { ...parsed, resources: parsed.resources.map((r) => ({ type: "", ...r }) as ArmResource) };
}

export function builtInScenarioPath(name: "demo"): string {
  return join(packageRoot(), "scenarios", `${name}.json`);
}
