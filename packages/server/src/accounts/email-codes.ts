import { randomInt, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";
import type { TokenDigester } from "./token-digest.ts";

/** What an email code proves: control of the address at sign-up, at recovery, or as a second factor. */
export type EmailCodePurpose = "signup" | "recovery" | "password-2fa";

/** A code lives 10 minutes (DESIGN §4.9). */
export const EMAIL_CODE_TTL_MS = 10 * 60 * 1000;
/** Wrong entries a code survives; the fifth burns it (DESIGN §4.9). */
export const EMAIL_CODE_MAX_ATTEMPTS = 5;

/** Where a code is kept: one live code per purpose and subject. */
export interface EmailCodeKey {
  readonly purpose: EmailCodePurpose;
  /**
   * What the code is for, never in plaintext: the address's blind index (sign-up, recovery) or
   * a ticket's digest (the password second factor).
   */
  readonly subject: string;
}

/** Single-use 6-digit email codes, stored only as keyed digests in `email_codes`. */
export interface EmailCodes {
  /**
   * Draws a new code, replacing any live one for the same key, and returns it to be mailed. The
   * code itself is never stored: only HMAC(purpose, subject, code).
   */
  issue(q: Queryable, key: EmailCodeKey, userId: string | null): Promise<string>;
  /**
   * Checks `code` and, when it matches, consumes it in the caller's transaction. `alsoRequire`
   * folds a second factor checked by the caller into the same attempt: when it is false a right
   * code counts as a wrong one. A wrong entry counts an attempt, and the fifth deletes the code,
   * so the caller must commit even when this returns false.
   *
   * Two concurrent checks of the same right code cannot both succeed: the row is locked
   * (`SELECT … FOR UPDATE`) and deleted by the winner; the loser then finds no row.
   */
  consume(q: Queryable, key: EmailCodeKey, code: string, alsoRequire?: boolean): Promise<boolean>;
}

const CODE = /^[0-9]{6}$/;

/**
 * Builds the email-code store.
 *
 * @example
 * ```ts
 * const code = await codes.issue(tx, { purpose: "signup", subject: emailIndex }, null);
 * const ok = await db.transaction((tx) => codes.consume(tx, { purpose: "signup", subject: emailIndex }, input));
 * ```
 */
export function createEmailCodes(deps: { digests: TokenDigester; clock: Clock }): EmailCodes {
  const { digests, clock } = deps;
  const digestOf = (key: EmailCodeKey, code: string) => digests.digest("email-code", key.purpose, key.subject, code);

  return Object.freeze({
    async issue(q: Queryable, key: EmailCodeKey, userId: string | null): Promise<string> {
      // Uniform over 000000–999999 (randomInt rejects biased draws).
      const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
      const now = clock.now();
      await q.query(
        `INSERT INTO email_codes (purpose, subject, digest, user_id, attempts, created_at, expires_at)
         VALUES ($1, $2, $3, $4, 0, $5, $6)
         ON CONFLICT (purpose, subject) DO UPDATE
           SET digest = EXCLUDED.digest, user_id = EXCLUDED.user_id, attempts = 0,
               created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
        [key.purpose, key.subject, digestOf(key, code), userId, new Date(now), new Date(now + EMAIL_CODE_TTL_MS)],
      );
      return code;
    },

    async consume(q: Queryable, key: EmailCodeKey, code: string, alsoRequire = true): Promise<boolean> {
      const { rows } = await q.query<{ digest: string; attempts: number }>(
        `SELECT digest, attempts FROM email_codes
         WHERE purpose = $1 AND subject = $2 AND expires_at > $3 FOR UPDATE`,
        [key.purpose, key.subject, new Date(clock.now())],
      );
      const row = rows[0];
      if (row === undefined) return false;
      // A malformed entry is still an attempt: it is a guess like any other.
      const presented = Buffer.from(digestOf(key, CODE.test(code) ? code : "-"), "hex");
      const matches = timingSafeEqual(presented, Buffer.from(row.digest, "hex"));
      if (matches && alsoRequire && row.attempts < EMAIL_CODE_MAX_ATTEMPTS) {
        // DELETE … RETURNING: exactly one consumer can remove the row.
        const deleted = await q.query("DELETE FROM email_codes WHERE purpose = $1 AND subject = $2 RETURNING 1", [
          key.purpose,
          key.subject,
        ]);
        return deleted.rowCount === 1;
      }
      if (row.attempts + 1 >= EMAIL_CODE_MAX_ATTEMPTS) {
        await q.query("DELETE FROM email_codes WHERE purpose = $1 AND subject = $2", [key.purpose, key.subject]);
      } else {
        await q.query("UPDATE email_codes SET attempts = attempts + 1 WHERE purpose = $1 AND subject = $2", [
          key.purpose,
          key.subject,
        ]);
      }
      return false;
    },
  });
}
