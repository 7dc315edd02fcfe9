import { randomBytes } from "node:crypto";
import { fromBase64Url, toBase64Url } from "@countersign/protocol";
import type { TokenDigester } from "../accounts/token-digest.ts";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";

/** The ceremony a challenge was issued for; a challenge is only accepted by the same one. */
export type ChallengePurpose = "sign-in" | "step-up" | "add-passkey" | "signup" | "recovery";

/** How long a challenge stays valid; the options ask the browser for a 5-minute timeout too. */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;

/** What a challenge is tied to beyond its purpose. */
export interface ChallengeScope {
  readonly purpose: ChallengePurpose;
  /** The account, when one is known before the ceremony (step-up, add-passkey, recovery). */
  readonly userId?: string | null;
  /** The ticket or session it was issued to, as an opaque string (stored as a keyed digest). */
  readonly binding?: string | null;
}

/**
 * Outstanding WebAuthn challenges in `webauthn_challenges`. The server makes each
 * challenge (32 random bytes, WebAuthn L3 §13.4.3 asks for at least 16), stores only a keyed
 * digest of it, and consumes it once, with DELETE … RETURNING, whatever the ceremony's outcome.
 */
export interface WebAuthnChallenges {
  /** A new challenge for `scope`, base64url, to put in the options. */
  create(q: Queryable, scope: ChallengeScope): Promise<string>;
  /**
   * Consumes the challenge the client signed, if it was issued for exactly this scope and has
   * not expired. True once; false for an unknown, expired, foreign or already used challenge.
   */
  consume(q: Queryable, scope: ChallengeScope, challenge: string): Promise<boolean>;
}

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Builds the challenge store.
 *
 * @example
 * ```ts
 * const challenge = await challenges.create(db, { purpose: "sign-in" });
 * const ok = await challenges.consume(db, { purpose: "sign-in" }, challengeFromClientData(response));
 * ```
 */
export function createWebAuthnChallenges(deps: { digests: TokenDigester; clock: Clock }): WebAuthnChallenges {
  const { digests, clock } = deps;
  const bindingOf = (scope: ChallengeScope) =>
    scope.binding === undefined || scope.binding === null
      ? null
      : digests.digest("challenge-binding", scope.purpose, scope.binding);

  return Object.freeze({
    async create(q: Queryable, scope: ChallengeScope) {
      const challenge = toBase64Url(randomBytes(32));
      const now = clock.now();
      await q.query(
        `INSERT INTO webauthn_challenges (digest, purpose, user_id, binding, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          digests.digest("challenge", challenge),
          scope.purpose,
          scope.userId ?? null,
          bindingOf(scope),
          new Date(now),
          new Date(now + CHALLENGE_TTL_MS),
        ],
      );
      return challenge;
    },

    async consume(q: Queryable, scope: ChallengeScope, challenge: string) {
      if (typeof challenge !== "string" || !CHALLENGE.test(challenge)) return false;
      // The row goes whether or not the rest matches: a challenge presented in the wrong scope
      // has leaked, and is worth nothing afterwards.
      const { rows } = await q.query<{ purpose: string; user_id: string | null; binding: string | null }>(
        `DELETE FROM webauthn_challenges WHERE digest = $1 AND expires_at > $2 RETURNING purpose, user_id, binding`,
        [digests.digest("challenge", challenge), new Date(clock.now())],
      );
      const row = rows[0];
      return (
        row !== undefined &&
        row.purpose === scope.purpose &&
        row.user_id === (scope.userId ?? null) &&
        row.binding === bindingOf(scope)
      );
    },
  });
}

/**
 * The challenge a WebAuthn response claims to answer, read from its `clientDataJSON`
 * (WebAuthn L3 §5.8.1), so the stored challenge can be found and consumed before the response is
 * verified against it. Null when the response is not shaped like one. This reads untrusted input
 * only to find a row; `@simplewebauthn/server` then verifies the response against that challenge.
 */
export function challengeFromResponse(response: unknown): string | null {
  const clientDataJSON = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON;
  if (typeof clientDataJSON !== "string" || clientDataJSON.length > 8192) return null;
  const bytes = fromBase64Url(clientDataJSON);
  if (bytes === null) return null;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    const challenge = (parsed as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === "string" && CHALLENGE.test(challenge) ? challenge : null;
  } catch {
    return null;
  }
}
