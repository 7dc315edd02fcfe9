import { parseArgs } from "node:util";
import { APPROVAL_OPTIONS, approvalInputFrom } from "./approval-arguments.ts";
import { approvalJson, describeOutcome } from "./approval-json.ts";
import { askForApproval, waitWithProgress } from "./ask-for-approval.ts";
import type { CliIo } from "./cli-io.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent request --action TYPE --title T [--body B] [--context JSON|@file] [--ttl S] [--wait] [--json]`
 *
 * Asks for an approval and shows the number. Without `--wait` it prints the request id (exit 0),
 * and for end-to-end context the display payload hash it computed, which `status --dph` needs.
 * With `--wait` it waits, with a countdown on a terminal, and exits 0 approved (the receipt on
 * standard output), 1 rejected, 2 expired, 3 canceled, 4 error.
 *
 * @example
 * ```ts
 * process.exitCode = await requestCommand(["--action", "deploy.production", "--title", "Deploy", "--wait"], io);
 * ```
 */
export async function requestCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...APPROVAL_OPTIONS, wait: { type: "boolean" } }, strict: true });
  const input = await approvalInputFrom(values, io);
  const client = await loadAgentClient(values, io);
  const pending = await askForApproval(client, input, io);
  if (!values.wait) {
    io.stdout.write(values.json ? approvalJson(pending.approval) : `${pending.id}\n`);
    // The server cannot hash end-to-end context: a later `status` checks the receipt against this.
    if (client.e2e !== undefined && !values.json) {
      io.stderr.write(
        `Display payload hash: ${pending.displayPayloadHash}\n  (end-to-end context: pass it to status --dph to accept the approval)\n`,
      );
    }
    return EXIT.approved;
  }
  const { outcome } = await waitWithProgress(pending, io);
  io.stderr.write(describeOutcome(outcome));
  if (values.json) io.stdout.write(approvalJson(outcome));
  else if (outcome.status === "approved") io.stdout.write(`${outcome.receipt}\n`);
  return exitCodeFor(outcome.status);
}
