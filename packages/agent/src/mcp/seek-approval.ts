import { CountersignError } from "@countersign/protocol";
import type { ApprovalInput } from "../client/approval-input.ts";
import type { ApprovalOutcome } from "../client/approval-outcome.ts";
import type { AgentClient, PendingApproval } from "../client/create-agent-client.ts";

/**
 * What an MCP request handler gives {@link seekApproval}: its signal, its progress token, and a way to notify.
 *
 * @example
 * ```ts
 * server.registerTool("deploy", config, async (args, extra) => {
 *   const { outcome } = await seekApproval(client, input, extra); // extra is an McpRequestContext
 * });
 * ```
 */
export interface McpRequestContext {
  readonly signal: AbortSignal;
  readonly _meta?: { readonly progressToken?: string | number } | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: the MCP SDK's notification union is wider than what is sent here
  sendNotification(notification: any): Promise<void>;
}

/**
 * Options of {@link seekApproval}.
 *
 * @example
 * ```ts
 * await seekApproval(client, input, extra, { requireNew: true, keepAliveMs: 10_000 });
 * ```
 */
export interface SeekApprovalOptions {
  /**
   * Refuse when the server returns an already open request for the action type (in-flight
   * suppression) instead of a new one: its approval would be for other arguments.
   */
  readonly requireNew?: boolean;
  /** Whether to wait for the decision; false returns right after announcing the number. */
  readonly wait?: boolean;
  /** How often to send a progress notification while waiting, so clients do not time out. */
  readonly keepAliveMs?: number;
}

/**
 * What {@link seekApproval} ends with.
 *
 * @example
 * ```ts
 * const { pending, outcome } = await seekApproval(client, input, extra, { wait: false });
 * console.log(pending.numberMatch, outcome); // "042917" null
 * ```
 */
export type SeekApprovalResult =
  | { readonly pending: PendingApproval; readonly outcome: ApprovalOutcome }
  | { readonly pending: PendingApproval; readonly outcome: null };

/**
 * Asks for an approval from inside an MCP tool call: creates the request, tells the MCP client
 * the number at once — as a progress notification (when the call has a progress token) and as a
 * log message — then waits for the decision, sending progress every few seconds so clients that
 * reset their timeout on progress never give up. If the MCP client cancels the call, the
 * approval request is canceled too.
 *
 * @example
 * ```ts
 * const { outcome } = await seekApproval(client, { actionType: "mcp.deploy", title: "Deploy" }, extra);
 * ```
 */
export async function seekApproval(
  client: AgentClient,
  input: ApprovalInput,
  context: McpRequestContext,
  options: SeekApprovalOptions = {},
): Promise<SeekApprovalResult> {
  const pending = await client.requestApproval(input, { signal: context.signal });
  if (options.requireNew && !pending.created) {
    throw new CountersignError("approval_not_pending", {
      message: `Another approval request for ${input.actionType} is already open (${pending.id}); try again once it has been decided.`,
    });
  }
  const token = context._meta?.progressToken;
  const ttl = Math.max(1, pending.approval.expiresIn);
  const number = pending.numberMatch ?? "";
  const message =
    number === ""
      ? `Approval request ${pending.id} is ${pending.approval.status}.`
      : `Countersign: ask the person to approve "${input.title}" on their phone by typing ${number.slice(0, 3)} ${number.slice(3)} (request ${pending.id}, expires in ${ttl} s).`;
  const progress = async (done: number, text: string): Promise<void> => {
    if (token === undefined) return;
    await context
      .sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: done, total: ttl, message: text },
      })
      .catch(() => undefined);
  };
  await progress(0, message);
  await context
    .sendNotification({
      method: "notifications/message",
      params: {
        level: "notice",
        logger: "countersign",
        data: { message, approval_id: pending.id, number_match: pending.numberMatch },
      },
    })
    .catch(() => undefined);
  if (options.wait === false) return { pending, outcome: null };

  const started = performance.now();
  const keepAlive = setInterval(() => {
    const elapsed = Math.min(ttl, Math.floor((performance.now() - started) / 1000));
    void progress(elapsed, `Waiting for the person to type ${number} (${Math.max(0, ttl - elapsed)} s left)`);
  }, options.keepAliveMs ?? 5_000);
  try {
    return { pending, outcome: await pending.wait({ signal: context.signal }) };
  } catch (error) {
    if (context.signal.aborted) {
      // The MCP client gave up on the call: nobody is waiting for this approval any more.
      await pending.cancel({ signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    }
    throw error;
  } finally {
    clearInterval(keepAlive);
  }
}
