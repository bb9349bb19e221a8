/**
 * npm run package: bundles the Function App with esbuild into one ESM file (small cold start: one module to load
 * instead of hundreds), stages it with host.json and a minimal package.json, zips it for deployment (azd / zip
 * deploy), and writes a CycloneDX SBOM of the production dependencies next to it.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import yazl from "yazl";
import { ASSETS, PACKAGED_ASSET_DIR, readAsset, type AssetName } from "../src/approval-page/assets.js";
import { packageRoot } from "../src/paths.js";

const root = packageRoot();
const stage = join(root, ".package", "app");
const output = join(root, ".package", "amlguard.zip");

export async function bundle(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(root, "functions", "index.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    minify: true,
    sourcemap: "linked",
    legalComments: "linked",
    // CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __amlguardCreateRequire } from 'node:module'; const require = __amlguardCreateRequire(import.meta.url);" },
    // Provided by the Functions Node.js worker at run time.
    external: ["@azure/functions-core"],
    logLevel: "warning",
  });
}

async function main(): Promise<void> {
  await rm(join(root, ".package"), { recursive: true, force: true });
  await mkdir(join(stage, "dist"), { recursive: true });
  await bundle(join(stage, "dist", "index.js"));
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { name: string; version: string };
  await writeFile(join(stage, "package.json"), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: "module", main: "dist/index.js" }, null, 2)}\n`);
  await copyFile(join(root, "host.json"), join(stage, "host.json"));
  // The approval page's script, style and MSAL's browser bundle, served by the app (src/approval-page/assets.ts).
  const assetFiles = (Object.keys(ASSETS) as AssetName[]).map((name) => `${PACKAGED_ASSET_DIR}/${name}`);
  await mkdir(join(stage, PACKAGED_ASSET_DIR), { recursive: true });
  for (const name of Object.keys(ASSETS) as AssetName[]) await writeFile(join(stage, PACKAGED_ASSET_DIR, name), await readAsset(name));
  const sbom = execFileSync("npm", ["sbom", "--sbom-format", "cyclonedx", "--omit", "dev"], { cwd: root, encoding: "utf8", maxBuffer: 64 * 2 ** 20, stdio: ["ignore", "pipe", "ignore"] });
  await writeFile(join(root, ".package", "sbom.cdx.json"), sbom);
  const zip = new yazl.ZipFile();
  for (const file of ["package.json", "host.json", "dist/index.js", "dist/index.js.map", "dist/index.js.LEGAL.txt", ...assetFiles]) zip.addFile(join(stage, file), file);
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(output)).on("close", resolve).on("error", reject);
    zip.end();
  });
  process.stdout.write(`${output}\n${join(root, ".package", "sbom.cdx.json")}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) await main();
