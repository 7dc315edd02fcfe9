/** The longest wait between two attempts, before jitter: one hour. */
export const MAX_WEBHOOK_RETRY_DELAY_MS = 3_600_000;

/** The jitter, as a fraction of the delay either way: ±20 %. */
export const WEBHOOK_RETRY_JITTER = 0.2;

/**
 * How long to wait after the `attempts`-th failed attempt: `min(1 h, 2^attempts s)` ± 20 %
 * (2 s, 4 s, 8 s, … after the first, second, third failure). The jitter spreads the retries of
 * many webhooks that failed together (a receiver that was down) so they do not return in step.
 *
 * @param attempts attempts made so far, ≥ 1.
 * @param random a uniform number in [0, 1); `Math.random` by default (not a secret).
 */
export function webhookRetryDelayMs(attempts: number, random: () => number = Math.random): number {
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new RangeError("attempts must be an integer ≥ 1");
  // 2^22 s is already past the cap; bounding the exponent keeps the arithmetic exact.
  const base = Math.min(MAX_WEBHOOK_RETRY_DELAY_MS, 1000 * 2 ** Math.min(attempts, 22));
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0.5;
  return Math.round(base * (1 + WEBHOOK_RETRY_JITTER * (2 * unit - 1)));
}
