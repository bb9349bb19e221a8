import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { canonicalRuleId, evaluateResource, RULE_ALIASES, RULES, ruleById } from "../src/rules/index.js";
import type { ArmResource } from "../src/arm/resource.js";
import { armExample, variant } from "./helpers/fixtures.js";

function firing(resource: ArmResource): string[] {
  return (evaluateResource(resource) ?? []).map((f) => f.ruleId).sort();
}

function fires(ruleId: string, resource: ArmResource): boolean {
  const result = ruleById(ruleId)!.evaluate(resource);
  return result.status === "fail";
}

describe("rule catalogue", () => {
  it("has unique ids and complete metadata for every rule", () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULES) {
      expect(rule.title.length, rule.id).toBeGreaterThan(10);
      expect(rule.rationale.length, rule.id).toBeGreaterThan(30);
      expect(rule.remediation.prose.length, rule.id).toBeGreaterThan(20);
      expect(rule.references.length, rule.id).toBeGreaterThan(0);
      expect(rule.appliesTo.length, rule.id).toBeGreaterThan(0);
      expect(rule.remediation.az, rule.id).toMatch(/^az [a-z]+ .*<[^>]+>/);
      expect(rule.remediation.bicep.length, rule.id).toBeGreaterThan(10);
      expect(rule.compliance.azurePolicy.length + rule.compliance.mcsb.length, rule.id).toBeGreaterThan(0);
      for (const guid of rule.compliance.azurePolicy) expect(rule.references.join(" "), `${rule.id} cites ${guid}`).toContain(guid);
    }
  });

  it("old ids keep working in settings: each alias names a current rule", () => {
    for (const [old, current] of Object.entries(RULE_ALIASES)) {
      expect(RULES.map((r) => r.id), old).not.toContain(old);
      expect(canonicalRuleId(old), old).toBe(current);
    }
    expect(canonicalRuleId("workspace-no-network-isolation")).toBe("workspace-no-private-link");
    // The split rule's old id sets the inbound rule's mode only; the outbound rule keeps the default.
    const config = loadConfig({ AMLGUARD_RULE_MODES: "workspace-no-network-isolation=off" });
    expect(config.ruleModes).toEqual({ "workspace-no-private-link": "off" });
  });

  it("carries exactly the ids the issue names, plus the policy-derived ones", () => {
    expect(RULES.map((r) => r.id)).toEqual(
      expect.arrayContaining([
        "workspace-public-network-access",
        "workspace-public-access-behind-vnet",
        "workspace-no-private-link",
        "workspace-outbound-not-restricted",
        "workspace-no-resource-logs",
        "workspace-no-user-assigned-identity",
        "compute-not-in-vnet",
        "workspace-no-customer-managed-key",
        "compute-node-public-ip",
        "compute-public-ssh",
        "compute-local-auth",
        "endpoint-public-network-access",
        "endpoint-key-auth",
        "deployment-public-egress",
        "registry-public-network-access",
        "compute-instance-idle-shutdown",
        "compute-instance-outdated-image",
      ]),
    );
  });

  it("returns undefined for types it does not support", () => {
    expect(evaluateResource({ id: "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z", type: "Microsoft.Storage/storageAccounts" })).toBeUndefined();
  });
});

describe("workspaces (Azure's Workspace Get example)", () => {
  const example = armExample("workspace-get");
  // The example is private, CMK-encrypted, with an approved private endpoint; it has no managed network and no
  // primary user-assigned identity, so the outbound and identity rules fire on it as it is.
  const workspace = variant(example, (w) => {
    w.properties.managedNetwork = { isolationMode: "AllowOnlyApprovedOutbound" };
    w.properties.primaryUserAssignedIdentity = Object.keys(w.identity.userAssignedIdentities)[0];
  });

  it("Azure's example fires only the outbound and identity rules; with those set, nothing fires", () => {
    expect(firing(example)).toEqual(["workspace-no-user-assigned-identity", "workspace-outbound-not-restricted"]);
    expect(firing(workspace)).toEqual([]);
  });

  it("resource logs are not evaluated without the diagnostic settings: never passed on nothing read", () => {
    expect(firing(workspace)).not.toContain("workspace-no-resource-logs");
    expect(evaluateResource(workspace, { diagnosticSettings: [] })!.map((f) => f.ruleId)).toEqual(["workspace-no-resource-logs"]);
  });

  it("absent publicNetworkAccess means Enabled (fail closed)", () => {
    const absent = variant(workspace, (w) => delete w.properties.publicNetworkAccess);
    expect(firing(absent)).toContain("workspace-public-network-access");
    const finding = evaluateResource(absent)!.find((f) => f.ruleId === "workspace-public-network-access")!;
    expect(finding.evidence.observed).toEqual({ "properties.publicNetworkAccess": null });
    expect(finding.evidence.summary).toMatch(/absent \(service default: Enabled\)/);
  });

  it("compares enums case-insensitively", () => {
    expect(fires("workspace-public-network-access", variant(workspace, (w) => (w.properties.publicNetworkAccess = "disabled")))).toBe(false);
    expect(fires("workspace-public-network-access", variant(workspace, (w) => (w.properties.publicNetworkAccess = "ENABLED")))).toBe(true);
    expect(fires("workspace-no-customer-managed-key", variant(workspace, (w) => (w.properties.encryption.status = "enabled")))).toBe(false);
  });

  it("accepts lowercase resource types, as Resource Graph returns them", () => {
    const lower = variant(workspace, (w) => {
      w.type = "microsoft.machinelearningservices/workspaces";
      w.properties.publicNetworkAccess = "Enabled";
    });
    expect(firing(lower)).toEqual(["workspace-public-network-access"]);
  });

  it("applies to every workspace kind", () => {
    for (const kind of ["Default", "Hub", "Project", "FeatureStore"]) {
      const open = variant(workspace, (w) => {
        w.kind = kind;
        w.properties.publicNetworkAccess = "Enabled";
      });
      expect(fires("workspace-public-network-access", open), kind).toBe(true);
    }
  });

  it("allowPublicAccessWhenBehindVnet true fires; false or absent does not", () => {
    expect(fires("workspace-public-access-behind-vnet", variant(workspace, (w) => (w.properties.allowPublicAccessWhenBehindVnet = true)))).toBe(true);
    expect(fires("workspace-public-access-behind-vnet", variant(workspace, (w) => delete w.properties.allowPublicAccessWhenBehindVnet))).toBe(false);
  });

  it("inbound isolation: only an approved private endpoint passes; a managed network does not stand in for one", () => {
    const noPe = variant(workspace, (w) => (w.properties.privateEndpointConnections = []));
    expect(fires("workspace-no-private-link", noPe)).toBe(true);
    const pending = variant(workspace, (w) => (w.properties.privateEndpointConnections[0].properties.privateLinkServiceConnectionState.status = "Pending"));
    expect(fires("workspace-no-private-link", pending)).toBe(true);
    expect(fires("workspace-no-private-link", variant(pending, (w) => (w.properties.privateEndpointConnections[0].properties.privateLinkServiceConnectionState.status = "approved")))).toBe(false);
  });

  it("outbound isolation: only AllowOnlyApprovedOutbound passes (AllowInternetOutbound is not isolation)", () => {
    for (const [mode, fails] of [["AllowOnlyApprovedOutbound", false], ["allowonlyapprovedoutbound", false], ["AllowInternetOutbound", true], ["Disabled", true]] as const) {
      expect(fires("workspace-outbound-not-restricted", variant(workspace, (w) => (w.properties.managedNetwork = { isolationMode: mode }))), mode).toBe(fails);
    }
    expect(fires("workspace-outbound-not-restricted", variant(workspace, (w) => delete w.properties.managedNetwork))).toBe(true);
  });

  it("a hub-based Project is reached through its hub: neither isolation rule applies to it", () => {
    const project = variant(workspace, (w) => {
      w.kind = "Project";
      w.properties.privateEndpointConnections = [];
      delete w.properties.managedNetwork;
    });
    expect(ruleById("workspace-no-private-link")!.evaluate(project).status).toBe("not-applicable");
    expect(ruleById("workspace-outbound-not-restricted")!.evaluate(project).status).toBe("not-applicable");
    expect(fires("workspace-outbound-not-restricted", variant(project, (w) => (w.kind = "Hub")))).toBe(true);
  });

  it("CMK: absent encryption fires; Project workspaces inherit their hub's key and are not evaluated", () => {
    const noCmk = variant(workspace, (w) => delete w.properties.encryption);
    expect(fires("workspace-no-customer-managed-key", noCmk)).toBe(true);
    expect(ruleById("workspace-no-customer-managed-key")!.evaluate(variant(noCmk, (w) => (w.kind = "Project"))).status).toBe("not-applicable");
  });
});

describe("computes (Azure's Compute Get examples)", () => {
  const cluster = armExample("compute-get-amlcompute");
  const instance = armExample("compute-get-computeinstance");

  it("the AmlCompute example (public IP true, SSH Enabled, local auth not disabled) fires the node, SSH and local-auth rules", () => {
    expect(firing(cluster)).toEqual(["compute-local-auth", "compute-node-public-ip", "compute-public-ssh"]);
  });

  it("absent enableNodePublicIp means true; only an explicit false passes", () => {
    expect(fires("compute-node-public-ip", variant(cluster, (c) => delete c.properties.properties.enableNodePublicIp))).toBe(true);
    expect(fires("compute-node-public-ip", variant(cluster, (c) => (c.properties.properties.enableNodePublicIp = false)))).toBe(false);
  });

  it("cluster SSH: NotSpecified or absent opens the port only without a subnet", () => {
    const notSpecified = variant(cluster, (c) => (c.properties.properties.remoteLoginPortPublicAccess = "NotSpecified"));
    expect(fires("compute-public-ssh", notSpecified)).toBe(false); // the example has a subnet
    expect(fires("compute-public-ssh", variant(notSpecified, (c) => delete c.properties.properties.subnet))).toBe(true);
    const absent = variant(cluster, (c) => delete c.properties.properties.remoteLoginPortPublicAccess);
    expect(fires("compute-public-ssh", absent)).toBe(false);
    expect(fires("compute-public-ssh", variant(absent, (c) => delete c.properties.properties.subnet))).toBe(true);
    expect(fires("compute-public-ssh", variant(cluster, (c) => (c.properties.properties.remoteLoginPortPublicAccess = "disabled")))).toBe(false);
  });

  it("compute instance SSH fires only when sshPublicAccess is Enabled (documented default Disabled)", () => {
    expect(fires("compute-public-ssh", variant(instance, (c) => (c.properties.properties.sshSettings = { sshPublicAccess: "enabled" })))).toBe(true);
    expect(fires("compute-public-ssh", variant(instance, (c) => delete c.properties.properties.sshSettings))).toBe(false);
  });

  it("local auth passes only with disableLocalAuth true", () => {
    expect(fires("compute-local-auth", variant(instance, (c) => (c.properties.disableLocalAuth = true)))).toBe(false);
    expect(fires("compute-local-auth", variant(instance, (c) => (c.properties.disableLocalAuth = false)))).toBe(true);
    expect(fires("compute-local-auth", variant(instance, (c) => delete c.properties.disableLocalAuth))).toBe(true);
  });

  it("computeType is matched case-insensitively", () => {
    expect(fires("compute-node-public-ip", variant(cluster, (c) => (c.properties.computeType = "amlcompute")))).toBe(true);
  });

  it("attached computes never fire the node, SSH or local-auth rules", () => {
    for (const name of ["compute-get-aks", "compute-get-kubernetes"]) {
      expect(firing(armExample(name)), name).toEqual([]);
    }
    for (const computeType of ["Databricks", "DataFactory", "VirtualMachine", "HDInsight", "SynapseSpark", "DataLakeAnalytics"]) {
      const attached = variant(cluster, (c) => (c.properties.computeType = computeType));
      expect(firing(attached), computeType).toEqual([]);
    }
  });

  it("idle shutdown and outdated image apply to compute instances only", () => {
    const noIdle = variant(instance, (c) => delete c.properties.properties.idleTimeBeforeShutdown);
    expect(fires("compute-instance-idle-shutdown", noIdle)).toBe(true);
    expect(fires("compute-instance-idle-shutdown", variant(instance, (c) => (c.properties.properties.idleTimeBeforeShutdown = "PT30M")))).toBe(false);
    const outdated = variant(instance, (c) => (c.properties.properties.osImageMetadata = { isLatestOsImageVersion: false, currentImageVersion: "22.08.19", latestImageVersion: "25.10.01" }));
    expect(fires("compute-instance-outdated-image", outdated)).toBe(true);
    expect(fires("compute-instance-outdated-image", variant(outdated, (c) => (c.properties.properties.osImageMetadata.isLatestOsImageVersion = true)))).toBe(false);
    expect(ruleById("compute-instance-idle-shutdown")!.evaluate(cluster).status).toBe("not-applicable");
  });
});

describe("online endpoints, deployments, registries (Azure's examples)", () => {
  const endpoint = armExample("online-endpoint-get");
  const deployment = armExample("online-deployment-get-managed");
  const registry = armExample("registry-get");

  it("endpoint public access: absent means Enabled; Disabled passes in any casing", () => {
    expect(fires("endpoint-public-network-access", variant(endpoint, (e) => delete e.properties.publicNetworkAccess))).toBe(true);
    expect(fires("endpoint-public-network-access", variant(endpoint, (e) => (e.properties.publicNetworkAccess = "DISABLED")))).toBe(false);
  });

  it("endpoint key auth fires for Key only", () => {
    expect(fires("endpoint-key-auth", variant(endpoint, (e) => (e.properties.authMode = "key")))).toBe(true);
    expect(fires("endpoint-key-auth", variant(endpoint, (e) => (e.properties.authMode = "AADToken")))).toBe(false);
    expect(fires("endpoint-key-auth", variant(endpoint, (e) => (e.properties.authMode = "AMLToken")))).toBe(false);
  });

  it("deployment egress: absent means Enabled", () => {
    expect(fires("deployment-public-egress", variant(deployment, (d) => delete d.properties.egressPublicNetworkAccess))).toBe(true);
    expect(fires("deployment-public-egress", variant(deployment, (d) => (d.properties.egressPublicNetworkAccess = "Disabled")))).toBe(false);
  });

  it("registry public access: absent means Enabled", () => {
    expect(fires("registry-public-network-access", variant(registry, (r) => delete r.properties.publicNetworkAccess))).toBe(true);
    expect(fires("registry-public-network-access", variant(registry, (r) => (r.properties.publicNetworkAccess = "Disabled")))).toBe(false);
  });

  it("rules are routed by type: an endpoint never gets workspace rules", () => {
    const ids = firing(variant(endpoint, (e) => (e.properties.publicNetworkAccess = "Enabled")));
    expect(ids.every((id) => id.startsWith("endpoint-"))).toBe(true);
  });
});
