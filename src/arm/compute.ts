import { readPath, type ArmResource } from "./resource.js";

/** Computes nest their type-specific properties one level deeper: properties.properties.*. */
export function computeType(resource: ArmResource): string | undefined {
  const type = readPath(resource, "properties.computeType");
  return typeof type === "string" ? type : undefined;
}

/** The compute types amlguard manages nodes for; attached computes (AKS, Kubernetes, Databricks...) are not. */
export function isManagedCompute(resource: ArmResource, types: readonly string[] = ["AmlCompute", "ComputeInstance"]): boolean {
  const type = computeType(resource)?.toLowerCase();
  return type !== undefined && types.some((t) => t.toLowerCase() === type);
}
