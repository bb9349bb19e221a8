/**
 * Terminal tables that never cut what an operator acts on (README: CLI, "Tables"). Piped output is one whole line per
 * row. On a terminal that is too narrow, in this order: prose and path cells wrap (at spaces; paths also after '/'),
 * never inside a word; then columns marked `below` move under their row as labelled lines ("evidence: …"), lowest
 * rank first; then columns marked `drop` are left out, lowest rank first, with a note saying which. A word wider than
 * the terminal runs past its edge rather than being cut.
 */
export interface Column {
  header: string;
  /** How the cell may break: `whole` (an identifier, the default), `words` (prose), `path` (names joined by '/'). */
  wrap?: "whole" | "words" | "path";
  /** Rank for moving under the row when the terminal is narrow. */
  below?: number;
  /** Rank for leaving out when even that does not fit. */
  drop?: number;
}

type Mode = NonNullable<Column["wrap"]>;

export function table(columns: readonly Column[], rows: readonly string[][], width: number): string {
  const all = columns.map((_, c) => c);
  const cells = (c: number): string[] => rows.map((r) => r[c] ?? "");
  const natural = columns.map((col, c) => Math.max(col.header.length, ...cells(c).map((cell) => cell.length)));
  if (!Number.isFinite(width)) return render({ visible: all, below: [], dropped: [], widths: natural, width }, columns, rows);
  const least = columns.map((col, c) =>
    (col.wrap ?? "whole") === "whole"
      ? natural[c]!
      : Math.max(...[col.header, ...cells(c)].flatMap((cell) => segments(cell, col.wrap!).map((s) => s.trimEnd().length))),
  );
  let visible = all;
  const below: number[] = [];
  const dropped: number[] = [];
  const needed = (): number => visible.reduce((sum, c) => sum + least[c]!, 0) + 2 * (visible.length - 1);
  const lowest = (rank: "below" | "drop"): number | undefined =>
    visible.filter((c) => columns[c]![rank] !== undefined && visible.length > 1).sort((a, b) => columns[a]![rank]! - columns[b]![rank]!)[0];
  while (needed() > width) {
    const move = lowest("below");
    const leave = move === undefined ? lowest("drop") : undefined;
    if (move === undefined && leave === undefined) break;
    if (move !== undefined) below.push(move);
    if (leave !== undefined) dropped.push(leave);
    visible = visible.filter((c) => c !== move && c !== leave);
  }
  const widths = [...least];
  let spare = width - needed();
  while (spare > 0) {
    // One character at a time, to the column furthest from its natural width: prose gets room before it wraps again.
    const short = visible.filter((c) => widths[c]! < natural[c]!).sort((a, b) => natural[b]! - widths[b]! - (natural[a]! - widths[a]!))[0];
    if (short === undefined) break;
    widths[short]! += 1;
    spare -= 1;
  }
  return render({ visible, below: below.sort((a, b) => a - b), dropped, widths, width }, columns, rows);
}

interface Layout {
  visible: number[];
  below: number[];
  dropped: number[];
  widths: number[];
  width: number;
}

function render(layout: Layout, columns: readonly Column[], rows: readonly string[][]): string {
  const { visible, below, dropped, widths, width } = layout;
  const line = (cells: readonly string[]): string[] => {
    const wrapped = visible.map((c) => wrap(cells[c] ?? "", widths[c]!, columns[c]!.wrap ?? "whole"));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, i) => wrapped.map((w, j) => (w[i] ?? "").padEnd(widths[visible[j]!]!)).join("  ").trimEnd());
  };
  // Lines under the row start under the second column where that leaves room, else close to the margin.
  const indent = visible.length > 1 && width - (widths[visible[0]!]! + 2) >= 40 ? widths[visible[0]!]! + 2 : 2;
  const underneath = (cells: readonly string[]): string[] =>
    below.flatMap((c) => {
      const text = cells[c] ?? "";
      if (!text) return [];
      const label = `${columns[c]!.header.toLowerCase()}: `;
      const room = Math.max(20, width - indent - label.length);
      return wrap(text, room, columns[c]!.wrap ?? "whole").map((part, i) => `${" ".repeat(indent)}${i === 0 ? label : " ".repeat(label.length)}${part}`);
    });
  const out = [...line(columns.map((c) => c.header)), ...rows.flatMap((row) => [...line(row), ...underneath(row)])];
  if (dropped.length) out.push(`(${dropped.map((c) => columns[c]!.header).join(", ")} left out to fit the terminal: widen it, pipe the output or use --json)`);
  return out.join("\n");
}

/** Break opportunities: after spaces (words), and after '/' too (paths); each piece keeps its trailing separator. */
function segments(text: string, mode: Mode): string[] {
  if (mode === "whole") return [text];
  return text.match(mode === "path" ? /[^ /]*(?:[ /]+|$)/g : /[^ ]*(?: +|$)/g)?.filter(Boolean) ?? [text];
}

function wrap(text: string, width: number, mode: Mode): string[] {
  if (mode === "whole" || text.length <= width) return [text];
  const lines: string[] = [];
  let current = "";
  for (const piece of segments(text, mode)) {
    if (current && (current + piece).trimEnd().length > width) {
      lines.push(current.trimEnd());
      current = "";
    }
    current += piece;
  }
  if (current) lines.push(current.trimEnd());
  return lines;
}

/** A line of prose fitted to the terminal at spaces (whole when piped). */
export function fitLine(text: string, width: number): string {
  return Number.isFinite(width) ? wrap(text, width, "words").join("\n") : text;
}
