import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startAzuriteTables } from "../sandbox/azurite.js";
import type { RunningSandbox } from "../sandbox/index.js";
import type { TableStorageTarget } from "../state/tables.js";

/**
 * Where the demo keeps what it did, relative to the directory it runs in (git-ignored): Azurite's table database (the
 * audit trail, the alert outbox, exemptions) and the sandbox's ARM estate as the demo left it (a scenario file).
 * `amlguard audit|alerts pending|scan --sandbox` read it.
 */
export const DEMO_STATE_DIR = join(".amlguard", "sandbox");

export function demoStatePaths(cwd: string): { root: string; tables: string; estate: string } {
  const root = join(cwd, DEMO_STATE_DIR);
  return { root, tables: join(root, "tables.json"), estate: join(root, "estate.json") };
}

/**
 * A staging directory the demo's Azurite writes into; `commit` replaces the kept state with it in two renames, so a
 * demo that fails or is interrupted leaves the previous state whole, and readers never see half of one.
 */
export async function stageDemoState(cwd: string): Promise<{ tables: string; estate: string; commit(): Promise<void>; discard(): Promise<void> }> {
  const { root } = demoStatePaths(cwd);
  await mkdir(dirname(root), { recursive: true });
  const staging = `${root}.staging-${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(staging, { recursive: true });
  return {
    tables: join(staging, "tables.json"),
    estate: join(staging, "estate.json"),
    commit: async () => {
      const old = `${root}.old-${process.pid}-${randomBytes(4).toString("hex")}`;
      if (existsSync(root)) await rename(root, old);
      await rename(staging, root);
      await rm(old, { recursive: true, force: true });
    },
    discard: () => rm(staging, { recursive: true, force: true }),
  };
}

/** The sandbox's resources as the demo left them, in the scenario format `startSandbox({ scenarioPath })` seeds from. */
export async function writeEstate(path: string, sandbox: RunningSandbox): Promise<void> {
  const resources = sandbox.scenario.resources.flatMap((seeded) => {
    const now = sandbox.arm.resource(seeded.id);
    return now ? [now] : [];
  });
  const estate = {
    description: `The demo estate as amlguard's demo left it (${new Date().toISOString()}): ${sandbox.scenario.description}`,
    resourceGroups: sandbox.scenario.resourceGroups,
    resources,
  };
  await writeFile(path, `${JSON.stringify(estate, null, 2)}\n`);
}

/** The kept estate, if a demo has run here. */
export function keptEstatePath(cwd: string): string | undefined {
  const { estate } = demoStatePaths(cwd);
  return existsSync(estate) ? estate : undefined;
}

/**
 * Azurite serving a copy of the kept tables, for reading: the kept state never changes by being looked at. Undefined
 * when no demo has run in `cwd`.
 */
export async function openKeptTables(cwd: string): Promise<{ target: TableStorageTarget; close(): Promise<void> } | undefined> {
  const { tables } = demoStatePaths(cwd);
  if (!existsSync(tables)) return undefined;
  const copy = await mkdtemp(join(tmpdir(), "amlguard-sandbox-"));
  try {
    await copyFile(tables, join(copy, "tables.json"));
    const azurite = await startAzuriteTables({ dbPath: join(copy, "tables.json") });
    return {
      target: { connectionString: azurite.connectionString },
      close: async () => {
        await azurite.close();
        await rm(copy, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(copy, { recursive: true, force: true });
    throw error;
  }
}
