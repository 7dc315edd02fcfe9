import { isCountersignError } from "@countersign/protocol";
import type { AppServices } from "../app-services.ts";
import type { AttemptKey } from "../auth-guards/attempt-limiter.ts";

/** The attempt-limit keys of one action: per account (when there is a subject) and per client network. */
export function attemptKeys(action: string, account: string | null, ip: string): AttemptKey[] {
  const keys: AttemptKey[] = [{ scope: "ip", action, subject: ip }];
  if (account !== null) keys.unshift({ scope: "account", action, subject: account });
  return keys;
}

/**
 * Counts a failed attempt against `keys` (on the database, never in a transaction the failing
 * request rolls back) and, when that failure is the one that starts a back-off, appends an
 * `auth.attempts_blocked` audit event: a burst of failures (issue 4 part 9). Later requests are
 * refused by `assertAllowed` before they get here, so a burst is recorded once per back-off step,
 * not once per refused request.
 */
export async function recordFailedAttempt(
  services: Pick<AppServices, "db" | "attemptLimiter" | "auditSink">,
  keys: readonly AttemptKey[],
  userId: string | null,
): Promise<void> {
  const { db, attemptLimiter, auditSink } = services;
  await attemptLimiter.recordFailure(db, keys);
  try {
    await attemptLimiter.assertAllowed(db, keys);
  } catch (error) {
    if (!isCountersignError(error, "too_many_attempts")) throw error;
    const action = keys[0]?.action ?? "unknown";
    await db.transaction((tx) =>
      auditSink.append(tx, {
        type: "auth.attempts_blocked",
        userId,
        actor: { kind: "system" },
        subject: { kind: "auth_action", id: action },
        context: userId === null ? undefined : { retry_after_seconds: error.retryAfter ?? null },
      }),
    );
  }
}
