import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

interface Diagnostic {
  Severity: string;
  Code: string;
  Message: string;
  Start: number;
}

/**
 * Kusto.Language (the @kusto/language-service-next build) with the Log Analytics tables of Azure Monitor's table
 * reference (test/fixtures/kusto/tables.json): the errors a query would get in the portal. Loaded once; it defines
 * globals (Bridge, Kusto).
 */
export function kustoDiagnostics(query: string): Diagnostic[] {
  const { Kusto, Bridge, globals } = load();
  const code = Kusto.Language.KustoCode.ParseAndAnalyze(query, globals);
  return Bridge.toArray(code.GetDiagnostics()) as Diagnostic[];
}

let loaded: { Kusto: any; Bridge: any; globals: unknown } | undefined;

function load() {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  require("@kusto/language-service-next/bridge.js");
  require("@kusto/language-service-next");
  const g = globalThis as any;
  const S = g.Kusto.Language.Symbols;
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, "..", "fixtures", "kusto", "tables.json"), "utf8")) as Record<string, { columns: Array<{ name: string; type: string }> }>;
  const tables = Object.entries(schema).map(([name, table]) => new S.TableSymbol.$ctor4(name, table.columns.map((c) => new S.ColumnSymbol(c.name, S.ScalarTypes.GetSymbol(c.type.toLowerCase())))));
  const database = new S.DatabaseSymbol.ctor("workspace", tables);
  loaded = { Kusto: g.Kusto, Bridge: g.Bridge, globals: g.Kusto.Language.GlobalState.Default.WithDatabase(database) };
  return loaded;
}
