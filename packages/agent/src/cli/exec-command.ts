import { spawn } from "node:child_process";
import { constants } from "node:os";
import { parseArgs } from "node:util";
import { APPROVAL_OPTIONS, approvalInputFrom } from "./approval-arguments.ts";
import { describeOutcome } from "./approval-json.ts";
import { askForApproval, waitWithProgress } from "./ask-for-approval.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent exec --action TYPE --title T [--body B] [--context JSON|@file] [--ttl S] -- CMD ARGS…`
 *
 * Runs `CMD ARGS…` only once the person approves, with the receipt in `COUNTERSIGN_RECEIPT` (and
 * the request id in `COUNTERSIGN_APPROVAL_ID`), and exits with the command's exit code. The
 * command line itself is added to the request's context as `command`, so the person sees exactly
 * what will run. Rejected, expired, canceled (Ctrl-C included) or an error: the command does not
 * run, and the exit code is 1, 2, 3 or 4.
 *
 * @example
 * ```ts
 * process.exitCode = await execCommand(["--action", "deploy.production", "--title", "Deploy", "--", "./deploy.sh"], io);
 * ```
 */
export async function execCommand(args: string[], io: CliIo): Promise<number> {
  const separator = args.indexOf("--");
  if (separator === -1 || separator === args.length - 1) throw usageError("exec needs a command after --");
  const [command, ...commandArgs] = args.slice(separator + 1) as [string, ...string[]];
  const { values } = parseArgs({ args: args.slice(0, separator), options: APPROVAL_OPTIONS, strict: true });
  const input = await approvalInputFrom(values, io, { command: [command, ...commandArgs] });
  const client = await loadAgentClient(values, io);
  // An open request made earlier for this action type may be for another command: never reuse it.
  const pending = await askForApproval(client, input, io, { requireNew: true });
  const { outcome, interrupted } = await waitWithProgress(pending, io);
  if (interrupted) {
    io.stderr.write(`Interrupted: ${command} was not run.\n`);
    return EXIT.canceled;
  }
  io.stderr.write(describeOutcome(outcome));
  if (outcome.status !== "approved") {
    io.stderr.write(`${command} was not run.\n`);
    return exitCodeFor(outcome.status);
  }
  return run(
    command,
    commandArgs,
    {
      ...io.env,
      COUNTERSIGN_RECEIPT: outcome.receipt,
      COUNTERSIGN_APPROVAL_ID: outcome.id,
    },
    io,
  );
}

/** Runs the approved command with the terminal's streams; resolves with its exit code (128 + n for signal n). */
function run(command: string, args: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit", env, cwd: io.cwd });
    // A terminal's Ctrl-C reaches the command directly (same process group); a SIGTERM sent to
    // this process alone (a CI job being stopped) is passed on, so the command can clean up.
    const forward = (): void => {
      const reason = io.signal?.reason as { signal?: unknown } | undefined;
      if (reason?.signal !== "SIGINT") child.kill("SIGTERM");
    };
    io.signal?.addEventListener("abort", forward, { once: true });
    child.once("exit", () => io.signal?.removeEventListener("abort", forward));
    child.once("error", (error) => {
      io.stderr.write(`countersign-agent: cannot run ${command}: ${error.message}\n`);
      resolve(EXIT.error);
    });
    child.once("exit", (code, signal) => {
      if (signal !== null) resolve(128 + (constants.signals[signal] ?? 0));
      else resolve(code ?? EXIT.error);
    });
  });
}
