import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { packageRoot } from "../paths.js";

/**
 * The files GET /api/approval-page/{file} serves: a fixed allow-list, nothing else from the disk. The page's own
 * script and style live in src/approval-page/assets/; the library is @azure/msal-browser's own browser bundle
 * (lib/msal-browser.min.js, UMD: it defines the global `msal`), served from the Function App so the page loads
 * nothing from outside. `npm run package` copies all three into the deployment zip under approval-page/.
 */
export const ASSETS = {
  "approval.js": { contentType: "text/javascript; charset=utf-8", source: "own" },
  "approval.css": { contentType: "text/css; charset=utf-8", source: "own" },
  "msal-browser.min.js": { contentType: "text/javascript; charset=utf-8", source: "msal" },
} as const;

export type AssetName = keyof typeof ASSETS;

export function isAssetName(name: string): name is AssetName {
  return Object.hasOwn(ASSETS, name);
}

/** Where the deployment zip keeps the assets (scripts/package.ts), relative to the package root. */
export const PACKAGED_ASSET_DIR = "approval-page";

const cache = new Map<AssetName, Promise<Buffer>>();

/** The asset's bytes, read once per process: from the deployment zip's folder if present, else from the source tree. */
export function readAsset(name: AssetName): Promise<Buffer> {
  let content = cache.get(name);
  if (!content) {
    content = readFirst(candidates(name));
    content.catch(() => cache.delete(name));
    cache.set(name, content);
  }
  return content;
}

/** The paths an asset may be at, in order: packaged, then source (own files) or node_modules (the library). */
export function candidates(name: AssetName): string[] {
  const root = packageRoot();
  const packaged = join(root, PACKAGED_ASSET_DIR, name);
  if (ASSETS[name].source === "own") return [packaged, join(root, "src", "approval-page", "assets", name)];
  const paths = [packaged];
  try {
    const require = createRequire(import.meta.url);
    paths.push(join(dirname(require.resolve("@azure/msal-browser/package.json")), "lib", "msal-browser.min.js"));
  } catch {
    // Not installed (the deployment zip has no node_modules): the packaged copy is the only one.
  }
  return paths;
}

async function readFirst(paths: string[]): Promise<Buffer> {
  for (const path of paths) {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  throw new Error(`approval page asset missing (looked in ${paths.length} places)`);
}
