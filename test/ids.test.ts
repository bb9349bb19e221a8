import { describe, expect, it } from "vitest";
import { parseMlResourceId, ResourceIdError } from "../src/arm/ids.js";

const SUB = "00000000-1111-2222-3333-444444444444";
const WS = `/subscriptions/${SUB}/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/workspaces/ws1`;

describe("parseMlResourceId", () => {
  it("parses every supported type, in any casing, to a canonical id", () => {
    expect(parseMlResourceId(WS)).toMatchObject({ kind: "workspace", subscriptionId: SUB, resourceGroup: "rg-1", parentName: "ws1", childNames: [] });
    expect(parseMlResourceId(`${WS}/computes/cpu`).kind).toBe("compute");
    expect(parseMlResourceId(`${WS}/onlineEndpoints/ep`).kind).toBe("onlineEndpoint");
    expect(parseMlResourceId(`${WS}/onlineEndpoints/ep/deployments/blue`)).toMatchObject({ kind: "onlineDeployment", childNames: ["ep", "blue"] });
    expect(parseMlResourceId(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/reg`).kind).toBe("registry");
    const lower = parseMlResourceId(WS.toLowerCase().replace("ws1", "WS1") + "/ONLINEENDPOINTS/ep");
    expect(lower.id).toBe(`/subscriptions/${SUB}/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/workspaces/WS1/onlineEndpoints/ep`);
  });

  it.each([
    ["empty", ""],
    ["no leading slash", WS.slice(1)],
    ["encoded slash", `${WS}%2Fcomputes%2Fx`],
    ["dot segments", `${WS}/computes/../../workspaces/other`],
    ["double slash", WS.replace("/workspaces/", "//workspaces/")],
    ["query", `${WS}?api-version=2025-09-01`],
    ["fragment", `${WS}#x`],
    ["trailing slash", `${WS}/`],
    ["extra segment", `${WS}/computes`],
    ["extra segments", `${WS}/computes/c/extra/e`],
    ["other provider", WS.replace("Microsoft.MachineLearningServices", "Microsoft.Storage")],
    ["unsupported child type", `${WS}/datastores/blob`],
    ["not a GUID subscription", WS.replace(SUB, "not-a-guid")],
    ["bad resource group", WS.replace("rg-1", "rg/1")],
    ["resource group ending in a period", WS.replace("rg-1", "rg.")],
    ["whitespace", `${WS} `],
    ["oversized", `${WS}/computes/${"a".repeat(2000)}`],
    ["backslash", WS.replace("/workspaces/", "\\workspaces\\")],
  ])("rejects %s", (_label, id) => {
    expect(() => parseMlResourceId(id)).toThrow(ResourceIdError);
  });
});
