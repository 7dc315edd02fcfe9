import { parseArgs } from "node:util";
import { approvalJson } from "./approval-json.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { exitCodeFor } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent cancel ID [--dph HASH] [--json]`: cancels an open request. Exits 3 once it is
 * canceled, or with the code of whatever had already ended it (0 if it was approved just before;
 * `--dph` as for `status`).
 *
 * @example
 * ```ts
 * await cancelCommand(["apr_…"], io);
 * ```
 */
export async function cancelCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      "key-file": { type: "string" },
      server: { type: "string" },
      json: { type: "boolean" },
      dph: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  const [id, extra] = positionals;
  if (id === undefined || extra !== undefined) throw usageError("cancel takes one request id");
  const client = await loadAgentClient(values, io);
  if (values.dph !== undefined && !/^sha256:[0-9a-f]{64}$/.test(values.dph)) {
    throw usageError("--dph is a display payload hash, sha256: and 64 hex digits");
  }
  const state = await client.cancel(id, {
    ...(io.signal ? { signal: io.signal } : {}),
    ...(values.dph === undefined ? {} : { displayPayloadHash: values.dph }),
  });
  if (values.json) io.stdout.write(approvalJson(state));
  else io.stderr.write(`${state.id}: ${state.status}${state.reason ? ` (${state.reason})` : ""}\n`);
  return exitCodeFor(state.status);
}
