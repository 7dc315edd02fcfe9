import type { CountersignError } from "@countersign/protocol";

/**
 * The longest `Retry-After` a client waits out by itself; longer ones are returned to the caller.
 *
 * @example
 * ```ts
 * if ((error.retryAfter ?? 0) > MAX_AUTOMATIC_RETRY_AFTER_SECONDS) throw error;
 * ```
 */
export const MAX_AUTOMATIC_RETRY_AFTER_SECONDS = 30;

/**
 * Whether an error answer may succeed if the same request is sent again: the server or a proxy
 * was briefly unavailable, the same Idempotency-Key is still being processed, or the client
 * polled too fast — each with a short enough `Retry-After`. Everything else (a refused
 * signature, a cool-down of ten minutes, a validation error) would fail the same way again.
 *
 * @example
 * ```ts
 * if (isRetryableAnswer(error)) await abortableSleep(retryDelayMs(attempt, error.retryAfter));
 * ```
 */
export function isRetryableAnswer(error: CountersignError): boolean {
  if (error.retryAfter !== undefined && error.retryAfter > MAX_AUTOMATIC_RETRY_AFTER_SECONDS) return false;
  return (
    error.code === "service_unavailable" ||
    error.code === "idempotency_key_in_progress" ||
    error.code === "slow_down" ||
    error.code === "rate_limited"
  );
}

/**
 * The wait before retry number `attempt` (1 for the first retry): the server's `Retry-After` when
 * it gave one, otherwise exponential backoff from 250 ms, capped at 4 s, with "full jitter" in its
 * upper half so that many clients cut off together do not come back together.
 *
 * @example
 * ```ts
 * retryDelayMs(1); // 125–250
 * retryDelayMs(3, 2); // 2000
 * ```
 */
export function retryDelayMs(attempt: number, retryAfterSeconds?: number, random: () => number = Math.random): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  const ceiling = Math.min(4000, 250 * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
