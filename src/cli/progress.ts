import type { ScanProgress } from "../scan.js";

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Progress on stderr: rewritten in place on a terminal; on a pipe, at most one line a second (CI logs stay short),
 * and the final state when done, so the last line is never a stale "0 resources".
 */
export function progressReporter(stderr: Output, label: string, clock: () => number = Date.now): { update(p: ScanProgress): void; done(): void } {
  let lastLine = Number.NEGATIVE_INFINITY;
  let drawn = false;
  let latest: string | undefined;
  let written: string | undefined;
  return {
    update(p) {
      latest = `${label}: ${p.resources} resources, ${p.findings} findings (${p.detail})`;
      if (stderr.isTTY) {
        stderr.write(`\r${latest.slice(0, (stderr.columns ?? 100) - 1)}\x1b[K`);
        drawn = true;
        return;
      }
      const now = clock();
      if (now - lastLine >= 1000) {
        lastLine = now;
        stderr.write(`${latest}\n`);
        written = latest;
      }
    },
    done() {
      if (drawn) stderr.write("\n");
      else if (latest !== undefined && latest !== written) stderr.write(`${latest}\n`);
    },
  };
}
