import type { TokenCredential } from "@azure/core-auth";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { isArmResource, ML_RESOURCE_TYPES, type ArmResource } from "../arm/resource.js";
import { chunk } from "../concurrency.js";
import { ArmClient } from "./arm-client.js";

/** Every type amlguard evaluates, as Resource Graph names them. */
export const GRAPH_QUERY = [
  "resources",
  `| where type in~ (${Object.values(ML_RESOURCE_TYPES).map((t) => `'${t.toLowerCase()}'`).join(", ")})`,
  "| project id, name, type, kind, location, tags, sku, identity, properties, subscriptionId, resourceGroup",
  "| order by id asc",
].join(" ");

export type GraphScope = { subscriptions: string[] } | { managementGroup: string };

/**
 * Azure Resource Graph through @azure/arm-resourcegraph: one query for the whole scope, 1,000 rows a page,
 * following $skipToken. Rows carry each resource's properties, so rules evaluate without reading ARM.
 */
export class GraphClient {
  /**
   * ARM at the same endpoint with the same credential (Resource Graph is served by ARM's front door): the scan
   * checks through it what Resource Graph may not index, such as workspaces' computes (src/scan.ts).
   */
  readonly arm: ArmClient;
  private readonly client: ResourceGraphClient;

  constructor(options: { endpoint: string; credential: TokenCredential; ca?: string }) {
    this.client = new ResourceGraphClient(options.credential, {
      endpoint: options.endpoint,
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
    });
    this.arm = new ArmClient({ endpoint: options.endpoint, credential: options.credential, ...(options.ca ? { ca: options.ca } : {}) });
  }

  async *pages(scope: GraphScope): AsyncGenerator<ArmResource[]> {
    let skipToken: string | undefined;
    // Resource Graph accepts up to 1,000 subscriptions per request.
    const batches = "subscriptions" in scope ? chunk(scope.subscriptions, 1000).map((subscriptions) => ({ subscriptions })) : [{ managementGroups: [scope.managementGroup] }];
    for (const batch of batches) {
      do {
        const response = await this.client.resources({
          ...batch,
          query: GRAPH_QUERY,
          options: { top: 1000, resultFormat: "objectArray", ...(skipToken ? { skipToken } : {}) },
        });
        const rows = Array.isArray(response.data) ? (response.data as unknown[]) : [];
        yield rows.filter(isArmResource);
        skipToken = response.skipToken ?? undefined;
      } while (skipToken);
    }
  }
}
