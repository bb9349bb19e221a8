import { RULE_ALIASES, RULES } from "../../rules/index.js";
import { SEVERITY_ORDER, type Rule } from "../../rules/rule.js";
import { table } from "../format.js";
import type { Output } from "../progress.js";

interface RulesIo {
  stdout: Output;
}

/** One catalogue entry as `amlguard rules --json` prints it: the rule's metadata, no functions. */
export interface CatalogueEntry {
  id: string;
  title: string;
  severity: Rule["severity"];
  appliesTo: Rule["appliesTo"];
  categories: Rule["categories"];
  compliance: Rule["compliance"];
  /** The fix intent in remediate mode, or "alert-only" when a person acts. */
  action: string;
  remediation: Rule["remediation"];
  /** Old ids that still name this rule in settings. */
  aliases: string[];
}

export function catalogue(): CatalogueEntry[] {
  return [...RULES]
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.id.localeCompare(b.id))
    .map((rule) => ({
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      appliesTo: rule.appliesTo,
      categories: rule.categories,
      compliance: rule.compliance,
      action: rule.fix ?? "alert-only",
      remediation: rule.remediation,
      aliases: Object.entries(RULE_ALIASES).filter(([, current]) => current === rule.id).map(([old]) => old),
    }));
}

/** Words of `text` on lines of at most `width` characters; a word longer than that keeps its own line, whole. */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ").filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/**
 * The ACTION column in one word: "contain" when amlguard stops or caps the resource (the setting itself cannot be
 * changed in place, so the finding stays open until a person recreates it), "fix" when it changes the setting,
 * "alert" when a person acts.
 */
function actionWord(action: string): string {
  if (action === "alert-only") return "alert";
  return action === "contain-compute" ? "contain" : "fix";
}

/**
 * The catalogue as a table: one row per rule, continued on the lines below it (categories, each compliance id).
 * Ids are never cut: the fixed columns are as wide as their widest cell and the last column wraps at spaces only.
 */
export function catalogueTable(entries: readonly CatalogueEntry[], columns: number): string {
  const headers = ["RULE", "SEVERITY", "ACTION", "TITLE / CATEGORIES / COMPLIANCE"];
  const head = entries.map((e) => [e.id, e.severity.toUpperCase(), actionWord(e.action)]);
  const fixed = headers.slice(0, 3).map((h, c) => Math.max(h.length, ...head.map((row) => row[c]!.length)));
  const details = entries.map((e) => [
    e.title,
    e.categories.join(", "),
    ...e.compliance.azurePolicy.map((guid) => `Azure Policy ${guid}`),
    ...(e.compliance.mcsb.length ? [`MCSB ${e.compliance.mcsb.join(", ")}`] : []),
    ...(e.compliance.cis.length ? [`CIS Azure ${e.compliance.cis.join(", ")}`] : []),
    ...(e.aliases.length ? [`also accepted as ${e.aliases.join(", ")}`] : []),
  ]);
  const longestWord = Math.max(...details.flat().flatMap((line) => line.split(" ")).map((word) => word.length));
  const used = fixed.reduce((a, b) => a + b, 0) + 2 * fixed.length;
  // The table's last column takes what is left, at least the longest word, so it never has to cut one.
  const width = Math.max(used + Math.max(20, longestWord), columns);
  const last = width - used;
  const rows = entries.flatMap((_, i) => {
    const lines = details[i]!.flatMap((line) => (Number.isFinite(last) ? wrapWords(line, last) : [line]));
    return lines.map((line, n) => [...(n === 0 ? head[i]! : ["", "", ""]), line]);
  });
  return table(headers, rows, width, fixed);
}

export async function run(io: RulesIo, _args: string[], options: { json?: boolean }): Promise<number> {
  const entries = catalogue();
  if (options.json) io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
  else {
    const columns = io.stdout.isTTY ? (io.stdout.columns ?? 100) : Number.POSITIVE_INFINITY;
    io.stdout.write(`${catalogueTable(entries, columns)}\n${entries.length} rules\n`);
  }
  return 0;
}
