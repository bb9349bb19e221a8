import type { ScanProgress } from "../scan.js";

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

/** Progress on stderr: rewritten in place on a terminal, one line per quarter otherwise (CI logs stay short). */
export function scanProgressReporter(stderr: Output, label: string): { update(p: ScanProgress): void; done(): void } {
  let lastQuarter = -1;
  let drawn = false;
  return {
    update(p) {
      const text = `${label}: ${p.workspacesDone}/${p.workspacesTotal} workspaces, ${p.resources} resources, ${p.findings} findings`;
      if (stderr.isTTY) {
        stderr.write(`\r${text.slice(0, (stderr.columns ?? 100) - 1)}\x1b[K`);
        drawn = true;
        return;
      }
      const quarter = p.workspacesTotal === 0 ? 4 : Math.floor((4 * p.workspacesDone) / p.workspacesTotal);
      if (quarter !== lastQuarter) {
        lastQuarter = quarter;
        stderr.write(`${text}\n`);
      }
    },
    done() {
      if (drawn) stderr.write("\n");
    },
  };
}
