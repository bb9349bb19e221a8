/**
 * What the alert gallery must show once Chromium has rendered it (npm run check:gallery, and test/alerts-gallery.test.ts):
 * every card rendered, both card kinds present, every undo command in a monospace block whose lines each render on
 * one line and whose copied text pastes into a shell as the exact command, and every email's undo in a <pre> that
 * does not wrap.
 */
import type { Page } from "playwright-core";

export interface UndoBlock {
  /** The command the block's lines join back into (continuations removed). */
  command: string;
  /** What selecting the block and copying it gives, as a person would paste it into a shell. */
  copied: string;
  /** Every line break in the copied text follows a shell continuation: bash runs it as one command. */
  pasteable: boolean;
  lines: number;
  monospace: boolean;
  /** Lines the renderer wrapped onto a second visual line. */
  wrappedLines: number;
}

export interface GalleryReport {
  cardContainers: number;
  renderedCards: number;
  kinds: { single: number; digest: number };
  undoBlocks: UndoBlock[];
  emails: number;
  emailUndo: Array<{ command: string; whiteSpace: string; monospace: boolean }>;
  expectedUndo: string[];
}

// Runs in the page (a string: scripts are compiled without DOM types). An undo block is a container whose text blocks
// are all monospace; each line but the last ends in " \".
const INSPECT = `(() => {
  const mono = (el) => /mono|courier|consolas|menlo/i.test(getComputedStyle(el).fontFamily);
  const undoBlocks = [];
  for (const container of document.querySelectorAll("#cards .ac-container")) {
    const blocks = [...container.children].map((c) => c.classList.contains("ac-textBlock") ? c : c.querySelector(":scope > .ac-textBlock")).filter(Boolean);
    if (!blocks.length || !blocks.every(mono)) continue;
    const lines = blocks.map((b) => b.innerText.trim());
    const wrappedLines = blocks.filter((b) => b.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(b).lineHeight || "16")).length;
    const range = document.createRange();
    range.selectNodeContents(container);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    const copied = selection.toString().trim();
    selection.removeAllRanges();
    const copiedLines = copied.split(/\\n+/).map((l) => l.trim()).filter(Boolean);
    const pasteable = copiedLines.every((l, i) => i === copiedLines.length - 1 || l.endsWith(" \\\\"));
    undoBlocks.push({ command: copiedLines.map((l) => l.replace(/ \\\\$/, "")).join(" "), copied, pasteable, lines: lines.length, monospace: true, wrappedLines });
  }
  const emailUndo = [];
  for (const frame of document.querySelectorAll(".email iframe")) {
    for (const pre of frame.contentDocument.querySelectorAll("pre")) {
      const style = frame.contentWindow.getComputedStyle(pre);
      emailUndo.push({ command: pre.innerText, whiteSpace: style.whiteSpace, monospace: /mono|courier|consolas|menlo/i.test(style.fontFamily) });
    }
  }
  return {
    cardContainers: document.querySelectorAll("#cards > .card").length,
    renderedCards: Number(document.body.dataset.rendered),
    kinds: { single: document.querySelectorAll('.card[data-kind="single"]').length, digest: document.querySelectorAll('.card[data-kind="digest"]').length },
    undoBlocks,
    emails: document.querySelectorAll(".email").length,
    emailUndo,
    expectedUndo: window.amlguardExpectedUndo || [],
  };
})()`;

/** Loads the gallery page in the tab and reads what rendered. */
export async function inspectGallery(tab: Page, url: string): Promise<GalleryReport> {
  await tab.goto(url);
  await tab.waitForFunction("document.body.dataset.rendered !== undefined", undefined, { timeout: 10_000 });
  return (await tab.evaluate(INSPECT)) as GalleryReport;
}

/** Everything wrong with a rendered gallery, in words; none means it passed. */
export function galleryProblems(report: GalleryReport, pageErrors: readonly string[] = []): string[] {
  const problems = pageErrors.map((e) => `page error: ${e}`);
  if (report.renderedCards === 0 || report.renderedCards !== report.cardContainers) problems.push(`${report.renderedCards} of ${report.cardContainers} cards rendered`);
  if (report.kinds.single === 0) problems.push("no single-alert card");
  if (report.kinds.digest === 0) problems.push("no digest card");
  if (report.undoBlocks.length === 0) problems.push("no undo command rendered as code in any card");
  const known = new Set(report.expectedUndo);
  for (const block of report.undoBlocks) {
    if (!block.monospace) problems.push(`undo not monospace: ${block.command}`);
    if (!block.pasteable) problems.push(`undo copies as several commands (a line break without a continuation): ${block.copied}`);
    if (block.wrappedLines > 0) problems.push(`undo wrapped inside a line (${block.wrappedLines} of ${block.lines}): ${block.command}`);
    if (known.size && !known.has(block.command)) problems.push(`undo in a card is not a command amlguard gave: ${block.command}`);
  }
  if (report.emails > 0 && report.emailUndo.length === 0) problems.push("no undo command in a <pre> in any email");
  for (const pre of report.emailUndo) {
    if (pre.whiteSpace !== "pre" || !pre.monospace) problems.push(`email undo wraps or is not monospace (${pre.whiteSpace}): ${pre.command}`);
    if (known.size && !known.has(pre.command)) problems.push(`undo in an email is not a command amlguard gave: ${pre.command}`);
  }
  return problems;
}
