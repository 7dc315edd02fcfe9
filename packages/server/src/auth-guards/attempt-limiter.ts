import { CountersignError } from "@countersign/protocol";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";
import { type AuthSubjectScope, createAuthSubjectDigest } from "./auth-subject-digest.ts";
import { type AttemptPolicy, backoffSeconds } from "./backoff-seconds.ts";

/**
 * One thing an attempt is counted against: an account or a client network, for one action.
 * `subject` is a canonical account identifier (the normalized email, the user id) or the client
 * address (`request.ip`); it is stored only as a keyed digest.
 */
export interface AttemptKey {
  readonly scope: AuthSubjectScope;
  /** What is being attempted, e.g. `sign-in.password`, `sign-up.code`: lower-case, ≤ 64 chars. */
  readonly action: string;
  readonly subject: string;
}

/**
 * Attempt limits with exponential back-off, kept in the database so that every server
 * process sees the same counts. A route checks before doing any work, records a failure when the
 * attempt fails, and resets on success:
 *
 * @example
 * ```ts
 * const keys = [
 *   { scope: "account", action: "sign-in.password", subject: canonicalEmail },
 *   { scope: "ip", action: "sign-in.password", subject: request.ip },
 * ] as const;
 * await services.attemptLimiter.assertAllowed(db, keys);
 * if (!ok) {
 *   await services.attemptLimiter.recordFailure(db, keys);
 *   throw new CountersignError("code_invalid");
 * }
 * await services.attemptLimiter.reset(db, keys.filter((k) => k.scope === "account"));
 * ```
 */
export interface AttemptLimiter {
  /**
   * Refuses while any key is waiting out a back-off.
   *
   * @throws CountersignError `too_many_attempts` (429) with `retryAfter` = seconds until the
   *   longest wait ends; the error handler sends it as `Retry-After`.
   */
  assertAllowed(q: Queryable, keys: readonly AttemptKey[]): Promise<void>;
  /**
   * Counts one failure against every key and starts the next back-off. Pass the database, not a
   * transaction that the failing request will roll back, or the failure is forgotten with it.
   */
  recordFailure(q: Queryable, keys: readonly AttemptKey[]): Promise<void>;
  /** Forgets the keys' failures (after a success). */
  reset(q: Queryable, keys: readonly AttemptKey[]): Promise<void>;
}

/**
 * The defaults. Per account: 5 free failures, then 2 s, 4 s, 8 s … up to 15 minutes, so a
 * person who mistypes is never slowed while an online guesser gets about four tries an hour
 * once the cap is reached. Per client network: 20 free failures, since a household, an office or
 * a carrier's NAT shares one address, with the same curve after. Counts restart after 24 hours
 * without a failure.
 */
export const DEFAULT_ATTEMPT_POLICIES: Readonly<Record<AuthSubjectScope, AttemptPolicy>> = Object.freeze({
  account: Object.freeze({ freeFailures: 5, maxDelaySeconds: 900, forgetAfterSeconds: 86_400 }),
  ip: Object.freeze({ freeFailures: 20, maxDelaySeconds: 900, forgetAfterSeconds: 86_400 }),
});

const ACTION = /^[a-z][a-z0-9_.:-]{0,63}$/;

/** What {@link createAttemptLimiter} needs. */
export interface AttemptLimiterDeps {
  /** The root secret, for the subject digests (`config.secrets.masterKey`). */
  readonly masterKey: Uint8Array;
  readonly clock: Clock;
  readonly policies?: Readonly<Record<AuthSubjectScope, AttemptPolicy>>;
}

/** Builds the database-backed limiter. Policies are checked here, once, not per request. */
export function createAttemptLimiter(deps: AttemptLimiterDeps): AttemptLimiter {
  const policies = deps.policies ?? DEFAULT_ATTEMPT_POLICIES;
  for (const scope of ["account", "ip"] as const) assertPolicy(policies[scope], scope);
  const digest = createAuthSubjectDigest(deps.masterKey);
  const { clock } = deps;

  function rowKey(key: AttemptKey): [AuthSubjectScope, string, Uint8Array] {
    if (typeof key !== "object" || key === null) throw new TypeError("attempt key must be an object");
    if (typeof key.action !== "string" || !ACTION.test(key.action)) {
      throw new TypeError(`attempt action must match ${ACTION.source}`);
    }
    return [key.scope, key.action, digest(key.scope, key.subject)];
  }

  return Object.freeze({
    async assertAllowed(q: Queryable, keys: readonly AttemptKey[]) {
      const now = clock.now();
      let waitMs = 0;
      for (const key of keys) {
        const { rows } = await q.query<{ blocked_until: Date }>(
          `SELECT blocked_until FROM auth_attempts
           WHERE scope = $1 AND action = $2 AND subject_digest = $3 AND blocked_until > $4`,
          [...rowKey(key), new Date(now)],
        );
        const row = rows[0];
        if (row !== undefined) waitMs = Math.max(waitMs, row.blocked_until.getTime() - now);
      }
      if (waitMs > 0) throw new CountersignError("too_many_attempts", { retryAfter: Math.ceil(waitMs / 1000) });
    },

    async recordFailure(q: Queryable, keys: readonly AttemptKey[]) {
      const now = clock.now();
      for (const key of keys) {
        const params = rowKey(key);
        const policy = policies[key.scope];
        // One statement counts the failure, so concurrent failures in other processes each add
        // one (the row lock orders them); a count older than the forget window starts over.
        const { rows } = await q.query<{ failures: number }>(
          `INSERT INTO auth_attempts AS a (scope, action, subject_digest, failures, last_failure_at)
           VALUES ($1, $2, $3, 1, $4)
           ON CONFLICT (scope, action, subject_digest) DO UPDATE SET
             failures = CASE WHEN a.last_failure_at <= $5 THEN 1 ELSE a.failures + 1 END,
             last_failure_at = $4
           RETURNING failures`,
          [...params, new Date(now), new Date(now - policy.forgetAfterSeconds * 1000)],
        );
        const delay = backoffSeconds(rows[0]?.failures ?? 1, policy);
        if (delay === 0) continue;
        // GREATEST: a concurrent failure that computed a longer wait is never shortened.
        await q.query(
          `UPDATE auth_attempts SET blocked_until = GREATEST(blocked_until, $4)
           WHERE scope = $1 AND action = $2 AND subject_digest = $3`,
          [...params, new Date(now + delay * 1000)],
        );
      }
    },

    async reset(q: Queryable, keys: readonly AttemptKey[]) {
      for (const key of keys) {
        await q.query(
          "DELETE FROM auth_attempts WHERE scope = $1 AND action = $2 AND subject_digest = $3",
          rowKey(key),
        );
      }
    },
  });
}

/**
 * Deletes counts that no longer matter: no wait pending and the last failure older than the
 * longest forget window. Returns how many. Run periodically.
 */
export async function sweepAttempts(
  q: Queryable,
  nowMs: number,
  policies: Readonly<Record<AuthSubjectScope, AttemptPolicy>> = DEFAULT_ATTEMPT_POLICIES,
): Promise<number> {
  const forgetMs = Math.max(policies.account.forgetAfterSeconds, policies.ip.forgetAfterSeconds) * 1000;
  const result = await q.query(
    `DELETE FROM auth_attempts
     WHERE last_failure_at <= $1 AND (blocked_until IS NULL OR blocked_until <= $2)`,
    [new Date(nowMs - forgetMs), new Date(nowMs)],
  );
  return result.rowCount;
}

function assertPolicy(policy: AttemptPolicy | undefined, scope: string): void {
  if (policy === undefined) throw new TypeError(`no attempt policy for scope ${scope}`);
  const checks: [number, string, number][] = [
    [policy.freeFailures, "freeFailures", 0],
    [policy.maxDelaySeconds, "maxDelaySeconds", 1],
    [policy.forgetAfterSeconds, "forgetAfterSeconds", 1],
  ];
  for (const [value, name, min] of checks) {
    if (!Number.isSafeInteger(value) || value < min)
      throw new RangeError(`${scope}.${name} must be an integer >= ${min}`);
  }
}
