/**
 * The report's only stylesheet, inline (the page fetches nothing). Identifiers wrap anywhere rather than being cut:
 * `overflow-wrap: anywhere` in fixed-layout tables, never `text-overflow: ellipsis` or `overflow: hidden`.
 */
export const REPORT_CSS = `
:root{--critical:#7b1fa2;--high:#c62828;--medium:#ef6c00;--low:#1565c0;--ok:#2e7d32;--warn:#8d6e00;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{font:14px/1.45 "Segoe UI",system-ui,Arial,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
section>h2:first-child{margin-top:0}
table.counts{width:auto;min-width:22em}
section,header{background:#fff;border:1px solid var(--line);border-radius:6px;padding:16px;margin:16px 0}
code,pre,.id{font-family:ui-monospace,"Cascadia Mono",Consolas,monospace;font-size:12.5px}
.id,td,th,dd{overflow-wrap:anywhere;word-break:normal}
.id .seg,pre .tok{display:inline-block;max-width:100%}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;border:1px solid var(--line);border-radius:4px;padding:8px;margin:4px 0}
table{width:100%;border-collapse:collapse;table-layout:fixed;margin:8px 0}
th,td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
td.num,th.num{text-align:right;width:7em}
.meta{display:grid;grid-template-columns:14em 1fr;gap:4px 12px;margin:8px 0}
.meta dt{color:var(--muted)}
.meta dd{margin:0}
.verdict{font-size:16px;font-weight:600;padding:10px 12px;border-radius:6px;margin:12px 0;border:2px solid}
.verdict.findings{border-color:var(--high);background:#fdecea}
.verdict.compliant{border-color:var(--ok);background:#e8f5e9}
.verdict.nothing-checked,.verdict.incomplete{border-color:var(--warn);background:#fff8e1}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.tile{flex:1 1 10em;border:1px solid var(--line);border-radius:6px;padding:10px 12px;border-left-width:6px}
.tile .n{font-size:26px;font-weight:700;display:block}
.sev{display:inline-block;font-weight:700;text-transform:uppercase;font-size:11.5px;padding:1px 6px;border-radius:3px;color:#fff}
.sev-critical{background:var(--critical)}.sev-high{background:var(--high)}.sev-medium{background:var(--medium)}.sev-low{background:var(--low)}
.tile.sev-critical{border-left-color:var(--critical);background:#fff}.tile.sev-high{border-left-color:var(--high);background:#fff}
.tile.sev-medium{border-left-color:var(--medium);background:#fff}.tile.sev-low{border-left-color:var(--low);background:#fff}
.tile.sev-critical .n{color:var(--critical)}.tile.sev-high .n{color:var(--high)}.tile.sev-medium .n{color:var(--medium)}.tile.sev-low .n{color:var(--low)}
.muted{color:var(--muted)}
.nomap{color:var(--warn);font-weight:600}
tbody.finding{break-inside:avoid;page-break-inside:avoid}
tbody.finding tr.head td{border-top:2px solid #8c959f}
tr.detail td{background:#fcfcfd}
.detail dl{display:grid;grid-template-columns:9em 1fr;gap:4px 12px;margin:0}
.detail dt{color:var(--muted);font-weight:600}
.detail dd{margin:0;min-width:0}
ul.tags{list-style:none;padding:0;margin:0}
@media print{
  body{background:#fff;font-size:11px}
  main{max-width:none;padding:0}
  section,header{border:none;padding:0;margin:12px 0}
  h2{break-after:avoid;page-break-after:avoid}
  .sev,.verdict,.tile{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  a{color:inherit;text-decoration:none}
}
`;
