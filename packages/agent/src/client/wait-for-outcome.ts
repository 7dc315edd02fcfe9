import { CountersignError } from "@countersign/protocol";
import { abortableSleep } from "./abortable-sleep.ts";
import { type ApprovalOutcome, outcomeOf } from "./approval-outcome.ts";
import { type ApprovalState, parseApprovalState } from "./approval-state.ts";
import { isRetryableAnswer, retryDelayMs } from "./retry-policy.ts";
import type { SignedTransport } from "./signed-transport.ts";

/**
 * Options of {@link PendingApproval.wait} and {@link AgentClient.wait}.
 *
 * @example
 * ```ts
 * await approval.wait({ signal: AbortSignal.timeout(120_000), onUpdate: (s) => console.log(s.status) });
 * ```
 */
export interface WaitOptions {
  /** Stops waiting: the promise rejects with the signal's reason. The request stays open. */
  readonly signal?: AbortSignal;
  /** Called when the request changes state without ending (pending → delivered). */
  readonly onUpdate?: (state: ApprovalState) => void;
  /**
   * The display payload hash the receipt must carry as `dph`; an approval whose receipt names
   * another is refused with `display_hash_mismatch`. {@link PendingApproval.wait} sets it to the
   * hash of the request as created (computed locally for end-to-end context).
   */
  readonly displayPayloadHash?: string;
}

/**
 * How {@link waitForOutcome} paces itself.
 *
 * @example
 * ```ts
 * await waitForOutcome(transport, state, { graceMs: 30_000 });
 * ```
 */
export interface WaitTiming {
  /** How long after the request's expiry to keep asking the server for its final state. */
  readonly graceMs: number;
  /** A monotonic clock in milliseconds (`performance.now` by default). */
  readonly monotonicNow?: () => number;
}

const MAX_LONG_POLL_SECONDS = 30;
/** Time on top of the long-poll for the answer to travel; past it the attempt is cut and retried. */
const LONG_POLL_SLACK_MS = 10_000;

/**
 * Waits for an approval request to end by long-polling `GET /v1/approvals/:id?wait=N`
 * (DESIGN §4.4) and resolves with its {@link ApprovalOutcome}.
 *
 * It never hangs: every long-poll attempt is cut after N + 10 seconds, and the whole wait is
 * bounded by the request's own lifetime (`expires_in`, measured on a monotonic clock so a wrong
 * system clock does not matter) plus `graceMs`. A request cannot be approved after it expires, so
 * if the server has not given a final state by then — it was unreachable, say — the wait rejects
 * with `service_unavailable` rather than guess: it never reports an expiry, or a network failure,
 * as a rejection, and never anything as an approval without the server's receipt.
 *
 * @example
 * ```ts
 * const outcome = await waitForOutcome(transport, created, { graceMs: 30_000 }, { signal });
 * ```
 */
export async function waitForOutcome(
  transport: SignedTransport,
  initial: ApprovalState,
  timing: WaitTiming,
  options: WaitOptions = {},
): Promise<ApprovalOutcome> {
  const { signal, onUpdate } = options;
  const now = timing.monotonicNow ?? (() => performance.now());
  const finished = outcomeOf(initial);
  if (finished !== null) return finished;

  let state = initial;
  let deadline = now() + initial.expiresIn * 1000 + timing.graceMs;
  let failures = 0;
  let lastFailure: CountersignError | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const left = deadline - now();
    if (left <= 0) {
      throw new CountersignError("service_unavailable", {
        message: "The server gave no final state for the approval request before it expired.",
        cause: lastFailure,
      });
    }
    const waitSeconds = Math.min(MAX_LONG_POLL_SECONDS, Math.max(1, Math.ceil((left - timing.graceMs) / 1000)));
    const startedAt = now();
    try {
      const { body } = await transport.json("GET", `/v1/approvals/${encodeURIComponent(state.id)}`, {
        query: `?wait=${waitSeconds}`,
        signal,
        retries: 0,
        timeoutMs: Math.min(waitSeconds * 1000 + LONG_POLL_SLACK_MS, left),
      });
      const next = parseApprovalState(body);
      failures = 0;
      const outcome = outcomeOf(next);
      if (outcome !== null) return outcome;
      if (next.status !== state.status) onUpdate?.(next);
      state = next;
      deadline = Math.min(deadline, now() + next.expiresIn * 1000 + timing.graceMs);
      // A server that answers a long-poll at once would otherwise be asked in a tight loop.
      const elapsed = now() - startedAt;
      if (elapsed < 1000) await abortableSleep(Math.min(next.interval * 1000, deadline - now()), signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!(error instanceof CountersignError) || !isRetryableAnswer(error)) throw error;
      failures += 1;
      lastFailure = error;
      await abortableSleep(Math.min(retryDelayMs(failures, error.retryAfter), Math.max(0, deadline - now())), signal);
    }
  }
}
