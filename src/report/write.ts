import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { renderReportHtml } from "./html.js";
import type { PostureReport } from "./model.js";

/** A report path that cannot be written: the message names the flag's value and what is wrong, in the user's terms. */
export class ReportPathError extends Error {
  override name = "ReportPathError";
}

/**
 * Checks, before anything is scanned, that the report can be written there: its folder exists and is writable, and
 * the path is not a folder. Nothing is created.
 */
export async function checkReportPath(path: string): Promise<string> {
  const shown = JSON.stringify(path.slice(0, 200));
  if (path.trim() === "") throw new ReportPathError("--html needs a file name, like report.html");
  const full = resolve(path);
  const folder = dirname(full);
  const folderStat = await stat(folder).catch(() => undefined);
  if (!folderStat?.isDirectory()) throw new ReportPathError(`--html ${shown}: the folder ${JSON.stringify(folder)} does not exist`);
  const existing = await stat(full).catch(() => undefined);
  if (existing?.isDirectory()) throw new ReportPathError(`--html ${shown} is a folder; give a file name, like ${JSON.stringify(`${path.replace(/\/+$/, "")}/report.html`)}`);
  try {
    await access(existing ? full : folder, constants.W_OK);
  } catch {
    throw new ReportPathError(`--html ${shown}: ${existing ? "the file" : "the folder"} is not writable`);
  }
  return full;
}

/** Writes the page whole or not at all: a temporary file beside it, then renamed over the target. */
export async function writeReport(path: string, report: PostureReport): Promise<void> {
  const full = resolve(path);
  const temporary = resolve(dirname(full), `.${basename(full)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, renderReportHtml(report), { encoding: "utf8", flag: "wx" });
    await rename(temporary, full);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
