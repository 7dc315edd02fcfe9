import { parseArgs } from "node:util";
import { approvalJson } from "./approval-json.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { exitCodeFor } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent status ID [--wait S] [--dph HASH] [--json]`: a request's state, optionally
 * long-polling up to S seconds (≤ 30) for a decision. Exits 0 approved (the receipt on standard
 * output), 1 rejected, 2 expired, 3 canceled, 4 error, 5 still open. `--dph` is the display payload
 * hash `request` printed: an approval whose receipt names another is refused, and for an agent
 * with end-to-end context an approval is reported only with it (DESIGN §4.11).
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
      dph: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  const [id, extra] = positionals;
  if (id === undefined || extra !== undefined) throw usageError("status takes one request id");
  const wait = values.wait === undefined ? 0 : Number(values.wait);
  const client = await loadAgentClient(values, io);
  if (values.dph !== undefined && !/^sha256:[0-9a-f]{64}$/.test(values.dph)) {
    throw usageError("--dph is a display payload hash, sha256: and 64 hex digits");
  }
  const state = await client.get(id, {
    wait,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(values.dph === undefined ? {} : { displayPayloadHash: values.dph }),
  });
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
