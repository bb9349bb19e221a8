import type { ScanProgress } from "../scan.js";

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

/** Progress on stderr: rewritten in place on a terminal; on a pipe, at most one line a second (CI logs stay short). */
export function progressReporter(stderr: Output, label: string): { update(p: ScanProgress): void; done(): void } {
  let lastLine = 0;
  let drawn = false;
  return {
    update(p) {
      const text = `${label}: ${p.resources} resources, ${p.findings} findings (${p.detail})`;
      if (stderr.isTTY) {
        stderr.write(`\r${text.slice(0, (stderr.columns ?? 100) - 1)}\x1b[K`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (now - lastLine >= 1000) {
        lastLine = now;
        stderr.write(`${text}\n`);
      }
    },
    done() {
      if (drawn) stderr.write("\n");
    },
  };
}
