import { parseArgs } from "node:util";
import { approvalJson } from "./approval-json.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { exitCodeFor } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent status ID [--wait S] [--json]`: a request's state, optionally long-polling up
 * to S seconds (≤ 30) for a decision. Exits 0 approved (the receipt on standard output),
 * 1 rejected, 2 expired, 3 canceled, 4 error, 5 still open.
 *
 * @example
 * ```ts
 * process.exitCode = await statusCommand(["apr_…", "--json"], io);
 * ```
 */
export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      "key-file": { type: "string" },
      server: { type: "string" },
      json: { type: "boolean" },
      wait: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  const [id, extra] = positionals;
  if (id === undefined || extra !== undefined) throw usageError("status takes one request id");
  const wait = values.wait === undefined ? 0 : Number(values.wait);
  const client = await loadAgentClient(values, io);
  const state = await client.get(id, { wait, ...(io.signal ? { signal: io.signal } : {}) });
  if (values.json) {
    io.stdout.write(approvalJson(state));
  } else {
    const decided = state.decidedAt ? ` at ${state.decidedAt.toISOString()}` : "";
    const reason = state.reason ? ` (${state.reason})` : "";
    io.stderr.write(`${state.id}: ${state.status}${reason}${decided}; ${state.actionType}\n`);
    if (state.receipt !== null) io.stdout.write(`${state.receipt}\n`);
  }
  return exitCodeFor(state.status);
}
