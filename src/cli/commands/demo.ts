import { writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { runDemo, type DemoEndpoints, type DemoResult } from "../../demo.js";
import { storyInput, printStory } from "../demo-story.js";
import { alertAccount, fatesAfterEvents, modesInForce } from "../../demo/story.js";
import { DEMO_SETTINGS } from "../../demo/settings.js";
import { columnsOf, EXIT, writeJson, type CliIo } from "../io.js";

/** `amlguard demo`: the whole bot on the embedded Azure sandbox; no Azure account needed. */
export async function run(io: CliIo, _args: string[], options: { json?: boolean; serve?: boolean }): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const print = (result: DemoResult): void => {
    if (options.json) {
      const input = storyInput(result);
      writeJson(io, { ...result, story: { modes: modesInForce(DEMO_SETTINGS), afterEvents: fatesAfterEvents(input).map((f) => ({ ruleId: f.finding.ruleId, resourceId: f.finding.resourceId, decision: f.decision })), alerts: alertAccount(input) } });
      return;
    }
    const out = (text = ""): void => io.stdout.write(`${text}\n`);
    printStory(out, result, columnsOf(io.stdout));
    out();
    printNext(out, result, cwd, options.serve === true);
  };
  const result = await runDemo(
    { progress: (step) => io.stderr.write(`${step}\n`) },
    {
      cwd,
      ...(options.serve
        ? {
            beforeClose: async (done, endpoints) => {
              print(done);
              await printEndpoints(io, endpoints, done.stateDir);
              await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
              io.stderr.write("stopping the sandbox; keeping its state\n");
            },
          }
        : {}),
    },
  );
  if (!options.serve) print(result);
  return EXIT.ok;
}

function printNext(out: (text?: string) => void, result: DemoResult, cwd: string, serving: boolean): void {
  const dir = relative(cwd, result.stateDir) || ".";
  out(`What next: the demo's state is kept in ${dir}${serving ? " when you stop it (Ctrl-C)" : ""} (audit trail, alert outbox, exemptions, the estate as left):`);
  out("  npx amlguard audit --sandbox           # the audit trail above, with before/after and undo (--json for all fields)");
  out("  npx amlguard alerts pending --sandbox  # the emails the busy relay refused, waiting for their retry");
  out("  npx amlguard scan --sandbox            # the estate as the demo left it");
  out("  npx amlguard demo --serve              # the same, then keep the sandbox serving until Ctrl-C");
  out(`  open ${relative(cwd, result.galleryPath)}        # the Teams cards and emails as rendered`);
}

/**
 * Where `--serve` listens. No key material is printed: the ARM token and CA go to files beside the state, and the
 * Azurite key is its public, documented development key, named rather than shown.
 */
async function printEndpoints(io: CliIo, endpoints: DemoEndpoints, stateDir: string): Promise<void> {
  const dir = join(stateDir, "..");
  const ca = join(dir, "sandbox-arm-ca.pem");
  const token = join(dir, "sandbox-arm-token");
  await writeFile(ca, endpoints.arm.ca);
  await writeFile(token, await endpoints.arm.token(), { mode: 0o600 });
  const out = (text = ""): void => io.stdout.write(`${text}\n`);
  out();
  out("Serving until Ctrl-C:");
  out(`  ARM (Microsoft.MachineLearningServices, Resource Graph): ${endpoints.arm.endpoint}`);
  out(`    CA certificate: ${ca}; a bearer token (sandbox operator): ${token}`);
  out(`    curl --cacert ${ca} -H "Authorization: Bearer $(cat ${token})" "${endpoints.arm.endpoint}/subscriptions/${endpoints.arm.subscriptionIds[0]}/providers/Microsoft.MachineLearningServices/workspaces?api-version=2025-09-01"`);
  out(`  Azurite Table Storage: ${endpoints.azurite.tableEndpoint} (account ${endpoints.azurite.accountName})`);
  out(`    AMLGUARD_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=${endpoints.azurite.accountName};AccountKey=<key>;TableEndpoint=${endpoints.azurite.tableEndpoint}"`);
  out("    <key>: Azurite's well-known development account key, published in Microsoft's Azurite documentation");
  out("    (\"Use the Azurite emulator\", section \"Well-known storage account and key\"); then amlguard audit and alerts pending read it live");
  out(`  Teams Workflows receiver: ${endpoints.teamsReceiver} (signed URL; the signature is not shown)`);
  out(`  SMTP sink: ${endpoints.smtp}`);
}
