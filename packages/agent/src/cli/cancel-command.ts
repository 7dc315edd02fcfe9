import { parseArgs } from "node:util";
import { approvalJson } from "./approval-json.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { exitCodeFor } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent cancel ID [--json]`: cancels an open request. Exits 3 once it is canceled,
 * or with the code of whatever had already ended it (0 if it was approved just before).
 *
 * @example
 * ```ts
 * await cancelCommand(["apr_…"], io);
 * ```
 */
export async function cancelCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { "key-file": { type: "string" }, server: { type: "string" }, json: { type: "boolean" } },
    strict: true,
    allowPositionals: true,
  });
  const [id, extra] = positionals;
  if (id === undefined || extra !== undefined) throw usageError("cancel takes one request id");
  const client = await loadAgentClient(values, io);
  const state = await client.cancel(id, io.signal ? { signal: io.signal } : {});
  if (values.json) io.stdout.write(approvalJson(state));
  else io.stderr.write(`${state.id}: ${state.status}${state.reason ? ` (${state.reason})` : ""}\n`);
  return exitCodeFor(state.status);
}
