import { randomInt } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import type { TokenDigester } from "./token-digest.ts";

/** Codes issued per account (issue 4 part 1). */
export const RECOVERY_CODE_COUNT = 10;

// Crockford's base32: no I, L, O or U, so a code read off paper cannot be mistyped as another.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const GROUPS = 4;
const GROUP_LENGTH = 5;
/** Entropy of one code: 20 symbols of 5 bits (≥ 80 bits asked for). */
export const RECOVERY_CODE_BITS = GROUPS * GROUP_LENGTH * 5;

/** A new recovery code, shown as `XXXXX-XXXXX-XXXXX-XXXXX` (100 uniformly random bits). */
export function generateRecoveryCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g += 1) {
    let group = "";
    for (let i = 0; i < GROUP_LENGTH; i += 1) group += ALPHABET[randomInt(0, ALPHABET.length)];
    groups.push(group);
  }
  return groups.join("-");
}

/**
 * The canonical form of a typed recovery code: upper case, separators and spaces dropped, and
 * Crockford's look-alikes folded (I and L read as 1, O as 0). Null when it cannot be a code.
 */
export function normalizeRecoveryCode(input: unknown): string | null {
  if (typeof input !== "string" || input.length > 64) return null;
  const folded = input.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  if (folded.length !== GROUPS * GROUP_LENGTH) return null;
  for (const char of folded) if (!ALPHABET.includes(char)) return null;
  return folded;
}

/** One stored recovery code. */
export interface PreparedRecoveryCode {
  readonly lookup: string;
  readonly hash: string;
}

/**
 * Recovery codes in `recovery_codes`: Argon2id hashes, single use. Each row also has a keyed
 * lookup digest so a check costs exactly one Argon2id verify, real or dummy.
 */
export interface RecoveryCodes {
  /**
   * Draws {@link RECOVERY_CODE_COUNT} codes and hashes them (off the event loop). Call it
   * before opening the transaction that stores them, so the transaction stays short.
   */
  prepare(userId: string): Promise<{ codes: string[]; rows: PreparedRecoveryCode[] }>;
  /** Replaces every code of the account with the prepared ones. */
  store(q: Queryable, userId: string, rows: readonly PreparedRecoveryCode[]): Promise<void>;
  /**
   * Checks a typed code against the account (null for an unknown account) with exactly one
   * Argon2id verify whatever happens. Returns the lookup of the matching unused code, or null.
   * Does not mark it used: see {@link RecoveryCodes.markUsed}.
   */
  check(q: Queryable, userId: string | null, input: string): Promise<string | null>;
  /** Marks a code used if it still is unused (conditional UPDATE); whether this call did it. */
  markUsed(q: Queryable, userId: string, lookup: string): Promise<boolean>;
  /** How many unused codes the account has left. */
  remaining(q: Queryable, userId: string): Promise<number>;
}

/**
 * Builds the recovery-code store.
 *
 * @example
 * ```ts
 * const { codes, rows } = await recovery.prepare(userId); // show `codes` once
 * await recovery.store(tx, userId, rows);
 * ```
 */
export function createRecoveryCodes(deps: {
  hasher: PasswordHasher;
  digests: TokenDigester;
  clock: Clock;
}): RecoveryCodes {
  const { hasher, digests, clock } = deps;
  const lookupOf = (userId: string, canonical: string) => digests.digest("recovery-code", userId, canonical);

  return Object.freeze({
    async prepare(userId: string) {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
      const rows = await Promise.all(
        codes.map(async (code) => {
          const canonical = normalizeRecoveryCode(code) as string;
          return { lookup: lookupOf(userId, canonical), hash: await hasher.hash(canonical) };
        }),
      );
      return { codes, rows };
    },

    async store(q: Queryable, userId: string, rows: readonly PreparedRecoveryCode[]) {
      await q.query("DELETE FROM recovery_codes WHERE user_id = $1", [userId]);
      await q.query(
        `INSERT INTO recovery_codes (user_id, lookup, hash, created_at)
         SELECT $1, lookup, hash, $4 FROM unnest($2::text[], $3::text[]) AS c (lookup, hash)`,
        [userId, rows.map((row) => row.lookup), rows.map((row) => row.hash), new Date(clock.now())],
      );
    },

    async check(q: Queryable, userId: string | null, input: string) {
      const canonical = normalizeRecoveryCode(input);
      let stored: { lookup: string; hash: string } | undefined;
      if (userId !== null && canonical !== null) {
        const { rows } = await q.query<{ lookup: string; hash: string }>(
          "SELECT lookup, hash FROM recovery_codes WHERE user_id = $1 AND lookup = $2 AND used_at IS NULL",
          [userId, lookupOf(userId, canonical)],
        );
        stored = rows[0];
      }
      if (stored === undefined || canonical === null) {
        await hasher.verifyDummy(canonical ?? String(input));
        return null;
      }
      return (await hasher.verify(stored.hash, canonical)) ? stored.lookup : null;
    },

    async markUsed(q: Queryable, userId: string, lookup: string) {
      const { rowCount } = await q.query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND lookup = $2 AND used_at IS NULL",
        [userId, lookup, new Date(clock.now())],
      );
      return rowCount === 1;
    },

    async remaining(q: Queryable, userId: string) {
      const { rows } = await q.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        [userId],
      );
      return rows[0]?.n ?? 0;
    },
  });
}
