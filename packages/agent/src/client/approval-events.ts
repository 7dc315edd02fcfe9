import { CountersignError } from "@countersign/protocol";
import { abortableSleep } from "./abortable-sleep.ts";
import { type ApprovalState, isTerminalStatus, parseApprovalState } from "./approval-state.ts";
import { parseServerSentEvents } from "./parse-server-sent-events.ts";
import { retryDelayMs } from "./retry-policy.ts";
import type { OpenStream, SignedTransport } from "./signed-transport.ts";

/**
 * Options of {@link AgentClient.events}.
 *
 * @example
 * ```ts
 * for await (const state of client.events(id, { signal: AbortSignal.timeout(600_000) })) console.log(state.status);
 * ```
 */
export interface EventsOptions {
  /** Ends the iteration: the iterator rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * A connection that sends nothing for this long is dropped and opened again. The server sends
   * a heartbeat every 15 s, so the default of 45 s allows two to be lost.
   */
  readonly idleTimeoutMs?: number;
  /**
   * The display payload hash an approved state's receipt must carry (see {@link AgentClient.get});
   * {@link PendingApproval.events} sets it.
   */
  readonly displayPayloadHash?: string;
}

/**
 * Follows one approval request over its SSE stream, `GET /v1/approvals/:id/events`: yields its
 * state at once and on every change, and finishes after a terminal state. A dropped or silent
 * connection is opened again, signed afresh, and a state already yielded is not yielded twice.
 *
 * @example
 * ```ts
 * for await (const state of approvalEvents(transport, id, { retries: 3 })) console.log(state.status);
 * ```
 */
export async function* approvalEvents(
  transport: SignedTransport,
  id: string,
  options: EventsOptions & { retries: number },
): AsyncGenerator<ApprovalState, void, undefined> {
  const { signal } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  let lastStatus: string | undefined;
  let failures = 0;
  for (;;) {
    const stream = await transport.stream("GET", `/v1/approvals/${encodeURIComponent(id)}/events`, {
      signal,
      accept: "text/event-stream",
    });
    let failure: unknown;
    const watched = watchIdle(stream, idleTimeoutMs);
    try {
      for await (const message of parseServerSentEvents(watched.body)) {
        if (message.event !== "approval") continue;
        let state: ApprovalState;
        try {
          state = parseApprovalState(JSON.parse(message.data));
        } catch (error) {
          throw new CountersignError("internal_error", { message: "The server sent a malformed event.", cause: error });
        }
        failures = 0;
        if (state.status !== lastStatus) {
          lastStatus = state.status;
          yield state;
        }
        if (isTerminalStatus(state.status)) return;
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof CountersignError) throw error;
      failure = error;
    } finally {
      watched.stop();
      stream.close();
    }
    // The stream ended, or broke, before the request did: open it again.
    failures += 1;
    if (failures > options.retries) {
      throw new CountersignError("service_unavailable", {
        message: "The event stream kept ending before the approval request did.",
        cause: failure,
      });
    }
    await abortableSleep(retryDelayMs(failures), signal);
  }
}

/** The stream's body, closed when no bytes arrive for `idleMs`; `stop` ends the watch. */
function watchIdle(stream: OpenStream, idleMs: number): { body: ReadableStream<Uint8Array>; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stream.close(), idleMs);
  };
  arm();
  const body = stream.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        arm();
        controller.enqueue(chunk);
      },
    }),
  );
  return { body, stop: () => clearTimeout(timer) };
}
