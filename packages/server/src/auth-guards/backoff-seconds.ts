/** How failures of one scope are limited. */
export interface AttemptPolicy {
  /** Failures allowed before any wait. */
  readonly freeFailures: number;
  /** The longest wait, in seconds, however many failures. */
  readonly maxDelaySeconds: number;
  /** A subject whose last failure is older than this starts again from zero. */
  readonly forgetAfterSeconds: number;
}

/**
 * How long a subject must wait after its `failures`-th consecutive failure: nothing for the free
 * ones, then 2^n seconds for the n-th failure beyond them (2 s, 4 s, 8 s, …), capped at
 * `maxDelaySeconds`. Exponential back-off rather than a hard lock-out (ASVS 5.0 V6.3.1; NIST SP
 * 800-63B §5.2.2), so an attacker cannot lock a person out of their account for good, yet gets
 * only a handful of guesses an hour.
 */
export function backoffSeconds(failures: number, policy: AttemptPolicy): number {
  if (!Number.isSafeInteger(failures) || failures < 0) throw new RangeError("failures must be a non-negative integer");
  const beyond = failures - policy.freeFailures;
  if (beyond <= 0) return 0;
  // 2^31 s is far past any cap; stopping the exponent there keeps the arithmetic exact.
  return Math.min(2 ** Math.min(beyond, 31), policy.maxDelaySeconds);
}
