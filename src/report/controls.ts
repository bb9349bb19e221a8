import type { PostureReport } from "./model.js";

export interface ControlRow {
  framework: "Azure Policy" | "MCSB" | "CIS";
  control: string;
  /** The rules mapped to this control. */
  rules: string[];
  findings: number;
  resources: number;
}

/** Every control a rule in the catalogue maps to, with the findings of those rules: which findings map where. */
export function controlsOf(report: Pick<PostureReport, "coverage" | "findings">): ControlRow[] {
  const rows = new Map<string, ControlRow & { ids: Set<string> }>();
  const add = (framework: ControlRow["framework"], control: string, ruleId: string): void => {
    const key = `${framework}\u0000${control}`;
    const row = rows.get(key) ?? { framework, control, rules: [], findings: 0, resources: 0, ids: new Set<string>() };
    row.rules.push(ruleId);
    for (const finding of report.findings) {
      if (finding.ruleId !== ruleId) continue;
      row.findings += 1;
      row.ids.add(finding.resourceId.toLowerCase());
    }
    rows.set(key, row);
  };
  for (const { rule } of report.coverage) {
    for (const guid of rule.compliance.azurePolicy) add("Azure Policy", guid, rule.id);
    for (const mcsb of rule.compliance.mcsb) add("MCSB", mcsb, rule.id);
    for (const cis of rule.compliance.cis) add("CIS", cis, rule.id);
  }
  const order = { MCSB: 0, CIS: 1, "Azure Policy": 2 };
  return [...rows.values()]
    .map(({ ids, ...row }) => ({ ...row, resources: ids.size }))
    .sort((a, b) => order[a.framework] - order[b.framework] || a.control.localeCompare(b.control, "en", { numeric: true }));
}
