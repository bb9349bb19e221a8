import { readFile } from "node:fs/promises";
import { isArmResource, isJsonObject, kindOfType, type ArmResource } from "./arm/resource.js";

/** Bad input for `amlguard evaluate`: names the file, never carries a stack to the user. */
export class InputError extends Error {
  override name = "InputError";
}

export interface ParsedInput {
  supported: ArmResource[];
  /** Resources of types amlguard does not evaluate, by type. */
  unsupported: Map<string, number>;
}

const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * Accepts what operators have at hand: one ARM resource, an array of them, an ARM list page ({value:[...]}) or an
 * Azure Resource Graph export ({data:[...]}, the shape `az graph query` prints).
 */
export function parseResources(text: string, source: string): ParsedInput {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${source}: malformed JSON (${(error as Error).message.split("\n")[0]})`);
  }
  const items = isJsonObject(json) && Array.isArray(json.value)
    ? json.value
    : isJsonObject(json) && Array.isArray(json.data)
      ? json.data
      : Array.isArray(json)
        ? json
        : [json];
  const result: ParsedInput = { supported: [], unsupported: new Map() };
  items.forEach((item, index) => {
    if (!isArmResource(item)) {
      const where = items.length === 1 && !Array.isArray(json) ? "" : ` (item ${index})`;
      throw new InputError(`${source}${where}: not an ARM resource (needs string "id" and "type")`);
    }
    if (kindOfType(item.type)) result.supported.push(item);
    else result.unsupported.set(item.type, (result.unsupported.get(item.type) ?? 0) + 1);
  });
  return result;
}

export async function readResourceFile(path: string): Promise<ParsedInput> {
  let text: string;
  try {
    const buffer = await readFile(path);
    if (buffer.length > MAX_INPUT_BYTES) throw new InputError(`${path}: larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`);
    text = buffer.toString("utf8");
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read file${code ? ` (${code})` : ""}`);
  }
  return parseResources(text, path);
}
