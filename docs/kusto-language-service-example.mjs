/* global process, console */
// Minimal example: analyze KQL against a custom schema with @kusto/language-service-next
// (Kusto.Language compiled to JS with Bridge.NET). Verified with package version 12.4.1 on Node 20.
//
// The package is NOT a dependency of amlguard. It was installed in a scratch dir:
//   mkdir -p /tmp/kls && cd /tmp/kls && npm init -y && npm install @kusto/language-service-next
// Run:  node docs/kusto-language-service-example.mjs
//   (set KUSTO_LS_DIR to point at another install dir; default /tmp/kls)
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const installDir = process.env.KUSTO_LS_DIR ?? "/tmp/kls";
const require = createRequire(path.join(installDir, "package.json"));

// The package is a pair of plain scripts, not a real CommonJS module:
//  1. bridge.js (the Bridge.NET runtime) must be loaded first; it sets globalThis.Bridge and System.
//  2. the main file then defines globalThis.Kusto. Its module.exports is an empty object.
require("@kusto/language-service-next/bridge.js");
require("@kusto/language-service-next");
const { Kusto, Bridge } = globalThis;
const L = Kusto.Language;
const S = L.Symbols;

// ---- 1. schema: database "db" with table T(X:long, Y:string) --------------------------------
const T = new S.TableSymbol.$ctor4("T", [
  new S.ColumnSymbol("X", S.ScalarTypes.Long),
  new S.ColumnSymbol("Y", S.ScalarTypes.String),
]);
// (equivalent: S.TableSymbol.From("(X:long, Y:string)").WithName("T"))
const db = new S.DatabaseSymbol.ctor("db", [T]); // (name, ...members) params array
const globals = L.GlobalState.Default.WithDatabase(db);

function analyze(query, g = globals) {
  const code = L.KustoCode.ParseAndAnalyze(query, g);
  // GetDiagnostics() returns a Bridge IReadOnlyList (SafeList); Bridge.toArray turns it into a JS array.
  const diagnostics = Bridge.toArray(code.GetDiagnostics()).map((d) => ({
    severity: d.Severity, // "Error" | "Warning" | "Suggestion" | "Information" | "Hidden"
    code: d.Code, // e.g. "KS142"
    category: d.Category, // e.g. "General"
    start: d.Start, // 0-based UTF-16 offset into the query text
    length: d.Length,
    text: query.substr(d.Start, d.Length),
    message: d.Message,
  }));
  const rt = code.ResultType; // TableSymbol for tabular queries
  const resultColumns =
    rt && rt.Kind === S.SymbolKind.Table
      ? Bridge.toArray(rt.Columns).map((c) => `${c.Name}:${c.Type.Name}`)
      : null;
  return { diagnostics, resultColumns };
}

function show(label, query, g) {
  const { diagnostics, resultColumns } = analyze(query, g);
  console.log(`\n# ${label}\n  ${query.replace(/\n\s*/g, " ")}`);
  if (diagnostics.length === 0) console.log("  OK  result:", resultColumns?.join(", "));
  for (const d of diagnostics)
    console.log(`  ${d.severity} ${d.code} @${d.start}+${d.length} ${JSON.stringify(d.text)}: ${d.message}`);
}

show("valid", "T | where X == 1 | project Y");
show("unknown column", "T | where Z == 1 | project Y");
show("syntax error", "T | where X == | project Y");
show("unknown table", "Foo | take 1");
show("fuzzy union with a table missing from the schema (Warning KS205, not an error)",
  "union isfuzzy=true T, Missing | count");
show("non-fuzzy union with a missing table (Error KS204)", "union T, Missing | count");

// ---- 2. schema from test/fixtures/kusto/tables.json --------------------------------------------
const here = path.dirname(fileURLToPath(import.meta.url));
const tablesJson = JSON.parse(
  readFileSync(path.join(here, "..", "test", "fixtures", "kusto", "tables.json"), "utf8"),
);
const tables = Object.entries(tablesJson).map(([name, t]) =>
  // ScalarTypes.GetSymbol accepts lower-case KQL type names: string int long real datetime bool
  // dynamic guid timespan decimal (aliases double/date/boolean/uuid/time too). Unknown -> null.
  new S.TableSymbol.$ctor4(
    name,
    t.columns.map((c) => new S.ColumnSymbol(c.name, S.ScalarTypes.GetSymbol(c.type) ?? S.ScalarTypes.Unknown)),
  ),
);
const laGlobals = L.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor("workspace", tables));

show("failed sign-ins with anomaly detection", `
  let lookback = 7d;
  union isfuzzy=true
    (SigninLogs | project TimeGenerated, ResultType, IPAddress, UserPrincipalName),
    (AADNonInteractiveUserSignInLogs | project TimeGenerated, ResultType, IPAddress, UserPrincipalName)
  | where TimeGenerated > ago(lookback) and ResultType != "0"
  | make-series Failures = count() default = 0 on TimeGenerated from ago(lookback) to now() step 1h by IPAddress
  | extend (anomalies, score, baseline) = series_decompose_anomalies(Failures, 3.0, -1, 'linefit')
  | mv-expand TimeGenerated to typeof(datetime), Failures to typeof(long), anomalies to typeof(double)
  | where anomalies > 0`, laGlobals);
show("Key Vault denials (AzureDiagnostics)", `
  AzureDiagnostics
  | where ResourceProvider == "MICROSOFT.KEYVAULT" and httpStatusCode_d in (401, 403)
  | summarize n = count(), p95 = percentile(DurationMs, 95) by CallerIPAddress, identity_claim_oid_g, Resource`, laGlobals);
show("AML endpoint auth failures, typo in column name", `
  AmlOnlineEndpointTrafficLog | where ResponseCode in (401, 403) | summarize count() by EndpointName, AuthTyp`, laGlobals);
