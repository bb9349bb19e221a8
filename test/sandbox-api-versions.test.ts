import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ML_API_VERSION } from "../src/azure/arm-client.js";
import { STABLE_API_VERSIONS } from "../src/sandbox/index.js";
import { armExample } from "./helpers/fixtures.js";
import { rehome, RG, SUB, WS_ID, startTestSandbox, type TestSandbox } from "./helpers/sandbox.js";

// Stable versions: the azure-rest-api-specs MachineLearningServices readme's stable tags (docs/api-version.md).
const REGISTRY_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/registries/reg1`;
const ENDPOINT_ID = `${WS_ID}/onlineEndpoints/ep1`;

let t: TestSandbox;
beforeAll(async () => {
  t = await startTestSandbox([rehome(armExample("workspace-get"), WS_ID), rehome(armExample("online-endpoint-get"), ENDPOINT_ID), rehome(armExample("registry-get"), REGISTRY_ID)]);
});
afterAll(async () => {
  await t.sandbox.close();
});

describe("ARM sandbox api-versions", () => {
  it("lists every stable version from 2018-11-19 to 2026-07-01, the product's among them", () => {
    expect(STABLE_API_VERSIONS[0]).toBe("2018-11-19");
    expect(STABLE_API_VERSIONS.at(-1)).toBe("2026-07-01");
    expect(STABLE_API_VERSIONS).toContain(ML_API_VERSION);
    expect([...STABLE_API_VERSIONS].sort()).toEqual([...STABLE_API_VERSIONS]);
  });

  it("answers a workspace GET at every stable version", async () => {
    const statuses = await Promise.all(STABLE_API_VERSIONS.map(async (v) => (await t.raw("GET", `${WS_ID}?api-version=${v}`)).status));
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it("a type that did not exist yet at that version: 400 NoRegisteredProviderFound listing the versions that have it", async () => {
    const registry = await t.raw("GET", `${REGISTRY_ID}?api-version=2022-10-01`);
    expect([registry.status, registry.body.error.code]).toEqual([400, "NoRegisteredProviderFound"]);
    expect(registry.body.error.message).toContain("for type 'registries'. The supported api-versions are '2023-04-01, ");
    expect((await t.raw("GET", `${REGISTRY_ID}?api-version=2023-04-01`)).status).toBe(200);
    expect((await t.raw("GET", `${ENDPOINT_ID}?api-version=2021-07-01`)).body.error.code).toBe("NoRegisteredProviderFound");
    expect((await t.raw("GET", `${ENDPOINT_ID}?api-version=2022-05-01`)).status).toBe(200);
  });

  it("previews and unknown dates are NoRegisteredProviderFound; what is not an api-version at all is InvalidApiVersionParameter", async () => {
    for (const version of ["2025-10-01-preview", "2026-08-01"]) {
      const res = await t.raw("GET", `${WS_ID}?api-version=${version}`);
      expect([res.status, res.body.error.code]).toEqual([400, "NoRegisteredProviderFound"]);
    }
    const list = await t.raw("GET", `/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/workspaces?api-version=latest`);
    expect([list.status, list.body.error.code]).toEqual([400, "InvalidApiVersionParameter"]);
    expect(list.body.error.message).toMatch(/^The api-version 'latest' is invalid\. The supported versions are '2018-11-19,/);
  });
});
