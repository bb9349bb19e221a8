/**
 * The compiled ARM JSON of infra/, for test/infra.test.ts: `scripts/bicep.sh` runs the real Bicep compiler (restored
 * from NuGet by `dotnet restore tools/bicep` on first use) into a scratch folder. A missing compiler is a failure with
 * the reason, never a skip: CI restores it, and so does the first local run where the .NET SDK is installed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Json = any;

export interface TemplateResource {
  type: string;
  apiVersion: string;
  name: string;
  condition?: string;
  properties?: Json;
  /** The (nested) template that declares it, for resolving `[variables('x').y]`. */
  template: Json;
  resource: Json;
}

const root = join(import.meta.dirname, "..", "..");

/** Compiles every template in infra/ and returns a reader of the results (`main`, `eventgrid`, `modules/app`...). */
export function compileInfra(): (name: string) => Json {
  const out = mkdtempSync(join(tmpdir(), "amlguard-bicep-"));
  const run = spawnSync("bash", [join(root, "scripts", "bicep.sh")], { cwd: root, encoding: "utf8", env: { ...process.env, BICEP_OUT: out } });
  if (run.status !== 0) {
    throw new Error(`the Bicep compiler did not compile infra/ (scripts/bicep.sh exit ${run.status}): ${`${run.stderr}${run.stdout}`.trim().split("\n").slice(-6).join(" | ")}`);
  }
  return (name) => JSON.parse(readFileSync(join(out, `${name}.json`), "utf8"));
}

/** Every resource of a template, nested deployments' templates included. */
export function resourcesOf(template: Json): TemplateResource[] {
  const list: Json[] = Array.isArray(template.resources) ? template.resources : Object.values(template.resources ?? {});
  return list.flatMap((resource) => {
    const own: TemplateResource = { type: resource.type, apiVersion: resource.apiVersion, name: resource.name, condition: resource.condition, properties: resource.properties, template, resource };
    const nested = resource.type === "Microsoft.Resources/deployments" && resource.properties?.template ? resourcesOf(resource.properties.template) : [];
    return [own, ...nested];
  });
}

/** A value with `[variables('name')]` / `[variables('name').path]` resolved against the declaring template. */
export function resolve(template: Json, value: Json): Json {
  if (typeof value !== "string") return value;
  const match = /^\[variables\('([^']+)'\)((?:\.\w+)*)\]$/.exec(value);
  if (!match) return value;
  let result = resolve(template, template.variables?.[match[1]!]);
  for (const key of match[2]!.split(".").filter(Boolean)) result = resolve(template, result?.[key]);
  return result;
}

/** Setting-like names ('AMLGUARD_X', 'AzureWebJobsStorage__accountName') quoted anywhere in an ARM expression or object. */
export function settingNames(value: Json, template: Json): string[] {
  const text = JSON.stringify(value) + Object.values(template.variables ?? {}).map((v) => JSON.stringify(v)).join("");
  return [...new Set([...text.matchAll(/'([A-Za-z][A-Za-z0-9]*(?:__?[A-Za-z0-9]+)+)'/g)].map((m) => m[1]!))];
}
