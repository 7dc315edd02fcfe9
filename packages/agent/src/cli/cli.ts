import { cancelCommand } from "./cancel-command.ts";
import { describeError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { enrollCommand } from "./enroll-command.ts";
import { execCommand } from "./exec-command.ts";
import { EXIT } from "./exit-codes.ts";
import { mcpCommand } from "./mcp-command.ts";
import { mcpGateCommand } from "./mcp-gate-command.ts";
import { requestCommand } from "./request-command.ts";
import { statusCommand } from "./status-command.ts";
import { verifyReceiptCommand } from "./verify-receipt-command.ts";
import { whoamiCommand } from "./whoami-command.ts";

/**
 * The text of `countersign-agent --help`.
 *
 * @example
 * ```ts
 * process.stdout.write(USAGE);
 * ```
 */
export const USAGE = `countersign-agent — ask a person to approve what this agent is about to do

Usage:
  countersign-agent enroll --server URL --code CODE [--key-file PATH]
  countersign-agent whoami [--json]
  countersign-agent request --action TYPE --title T [--body B] [--context JSON|@file] [--ttl S] [--wait] [--json]
  countersign-agent exec --action TYPE --title T [--body B] [--context JSON|@file] [--ttl S] -- CMD ARGS…
  countersign-agent status ID [--wait S] [--dph HASH] [--json]
  countersign-agent cancel ID [--dph HASH] [--json]
  countersign-agent verify-receipt [TOKEN|-] [--action TYPE] [--issuer URL] [--jwks-url URL] [--display-payload JSON|@file]
  countersign-agent mcp
  countersign-agent mcp-gate --policy FILE -- UPSTREAM_CMD ARGS…

Every command that calls the server takes --key-file PATH (default $COUNTERSIGN_KEY_FILE or
~/.config/countersign/agent-key.json) and --server URL (default: the key file's server).

Exit codes: 0 approved (or done), 1 rejected, 2 expired, 3 canceled, 4 error, 5 still open (status).
exec runs the command only once approved, with COUNTERSIGN_RECEIPT set, and exits with its code.
`;

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  enroll: enrollCommand,
  whoami: whoamiCommand,
  request: requestCommand,
  exec: execCommand,
  status: statusCommand,
  cancel: cancelCommand,
  "verify-receipt": verifyReceiptCommand,
  mcp: mcpCommand,
  "mcp-gate": mcpGateCommand,
};

/**
 * Runs `countersign-agent` with `argv` (without the node and script paths) and resolves with the
 * exit code. Errors are printed as one line with their code and never as a stack; they exit 4.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout).write(USAGE);
    return name === undefined ? EXIT.error : EXIT.approved;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`countersign-agent: unknown command ${name}\n\n${USAGE}`);
    return EXIT.error;
  }
  if (args.includes("--help") && !args.slice(0, args.indexOf("--help")).includes("--")) {
    io.stdout.write(USAGE);
    return EXIT.approved;
  }
  try {
    return await command(args, io);
  } catch (error) {
    if (io.signal?.aborted) {
      io.stderr.write("countersign-agent: interrupted\n");
      return EXIT.error;
    }
    io.stderr.write(describeError(error));
    return EXIT.error;
  }
}
