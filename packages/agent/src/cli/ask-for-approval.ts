import { CountersignError } from "@countersign/protocol";
import type { ApprovalInput } from "../client/approval-input.ts";
import type { ApprovalOutcome } from "../client/approval-outcome.ts";
import { outcomeOf } from "../client/approval-outcome.ts";
import type { AgentClient, PendingApproval } from "../client/create-agent-client.ts";
import { bigNumber } from "./big-number.ts";
import type { CliIo } from "./cli-io.ts";
import { startCountdown } from "./countdown.ts";

/**
 * Creates the request and shows the number at once, large, on standard error (so it reaches the
 * person even when standard output is captured), with the title and the time left.
 *
 * @example
 * ```ts
 * const pending = await askForApproval(client, { actionType: "deploy.production", title: "Deploy" }, io);
 * ```
 */
export async function askForApproval(
  client: AgentClient,
  input: ApprovalInput,
  io: CliIo,
  options: { requireNew?: boolean } = {},
): Promise<PendingApproval> {
  const pending = await client.requestApproval(input, io.signal ? { signal: io.signal } : {});
  if (options.requireNew && !pending.created) {
    throw new CountersignError("approval_not_pending", {
      message: `Another approval request for ${input.actionType} is already open (${pending.id}) and may be for something else; wait for it to end, or cancel it with: countersign-agent cancel ${pending.id}`,
    });
  }
  const number = pending.numberMatch;
  const out = io.stderr;
  if (number === null) {
    out.write(`Request ${pending.id} is already ${pending.approval.status}.\n`);
    return pending;
  }
  if (!pending.created) out.write(`\nA request for ${input.actionType} was already open: ${pending.id}.\n`);
  out.write("\nApprove on your phone: open Countersign and type this number\n\n");
  out.write(bigNumber(number));
  out.write(
    `\n  Number: ${number.slice(0, 3)} ${number.slice(3)}   ·   ${input.title}   ·   ${pending.id}\n` +
      `  Expires at ${pending.expiresAt.toISOString()}. Never approve a number you did not see here.\n\n`,
  );
  return pending;
}

/**
 * The end of {@link waitWithProgress}: the outcome, and whether the person at the terminal interrupted.
 *
 * @example
 * ```ts
 * const { outcome, interrupted } = await waitWithProgress(pending, io);
 * if (interrupted) return EXIT.canceled;
 * ```
 */
export interface WaitResult {
  readonly outcome: ApprovalOutcome;
  /** True when Ctrl-C canceled the request; act on nothing then, whatever the outcome says. */
  readonly interrupted: boolean;
}

/**
 * Waits for the decision with a live countdown. On Ctrl-C it cancels the request (so the phone
 * stops asking) and reports how the request ended.
 *
 * @example
 * ```ts
 * const { outcome } = await waitWithProgress(pending, io);
 * ```
 */
export async function waitWithProgress(pending: PendingApproval, io: CliIo): Promise<WaitResult> {
  const countdown = startCountdown(io.stderr, pending.approval.expiresIn * 1000);
  try {
    const outcome = await pending.wait({
      ...(io.signal ? { signal: io.signal } : {}),
      onUpdate: (state) => countdown.status(state.status === "delivered" ? "delivered to the phone" : state.status),
    });
    return { outcome, interrupted: false };
  } catch (error) {
    if (!io.signal?.aborted) throw error;
    countdown.stop();
    io.stderr.write("Interrupted: canceling the request…\n");
    const state = await pending.cancel({ signal: AbortSignal.timeout(5_000) });
    const outcome = outcomeOf(state);
    if (outcome === null) throw error;
    return { outcome, interrupted: true };
  } finally {
    countdown.stop();
  }
}
