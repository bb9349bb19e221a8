import { DEMO_USER, runDemo } from "../../demo.js";
import { auditTable, countsLine, findingsTable, severitySummary, shortName } from "../format.js";
import { columnsOf, EXIT, writeJson, type CliIo } from "../io.js";

/** `amlguard demo`: the whole bot on the embedded Azure sandbox; no Azure account needed. */
export async function run(io: CliIo, _args: string[], options: { json?: boolean; serve?: boolean }): Promise<number> {
  const result = await runDemo(
    { progress: (step) => io.stderr.write(`${step}\n`) },
    options.serve
      ? {
          keepServing: async (sandbox) => {
            io.stderr.write(`Sandbox ARM endpoint ${sandbox.arm.endpoint} (CA certificate below); Ctrl-C to stop.\n${sandbox.arm.ca}\n`);
            await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
          },
        }
      : {},
  );
  if (options.json) {
    writeJson(io, result);
    return EXIT.ok;
  }
  const columns = columnsOf(io.stdout);
  const out = (text = ""): void => io.stdout.write(`${text}\n`);
  out(`amlguard demo on the embedded Azure sandbox (${result.armEndpoint})`);
  out();
  out("1. The estate, from one Azure Resource Graph query (what the daily sweep sees)");
  out(`   ${countsLine(result.scan.resourceCounts)}`);
  const findings = result.scan.findings;
  out(findingsTable(findings, columns));
  out(severitySummary(findings));
  out();
  out(`2. What ${DEMO_USER.name} did, through ARM`);
  for (const action of result.userActions) out(`   - ${action}`);
  out();
  out(`3. The bot's decisions on the ${result.eventsDelivered} events ARM published (audit trail, Table Storage)`);
  out(auditTable(result.audit, columns));
  out();
  const byOutcome = new Map<string, number>();
  for (const alert of result.alerts) byOutcome.set(alert.outcome, (byOutcome.get(alert.outcome) ?? 0) + 1);
  out(`4. Alerts raised: ${result.alerts.length} (${[...byOutcome].map(([k, v]) => `${v} ${k}`).join(", ") || "none"})`);
  for (const alert of result.alerts.filter((a) => a.outcome === "remediated")) {
    out(`   - ${alert.title}: ${shortName(alert.resourceId)}; undo: ${alert.undo ?? "-"}`);
  }
  out();
  const { teamsCards, emails } = result.received;
  out(`5. Delivered through the outbox: ${teamsCards.length} Teams card(s) to the Workflows webhook, ${emails.length} email(s) to the SMTP sink`);
  for (const card of teamsCards) out(`   - Teams: ${cardHeadline(card.card)}`);
  for (const email of emails) out(`   - Email: ${email.subject}`);
  out(`   Rendered cards and emails: ${result.galleryPath}`);
  return EXIT.ok;
}

function cardHeadline(card: Record<string, unknown>): string {
  const body = Array.isArray(card.body) ? (card.body as Array<{ text?: unknown }>) : [];
  return body.map((block) => (typeof block.text === "string" ? block.text : "")).filter(Boolean).slice(0, 2).join(" | ").replace(/\\/g, "");
}
