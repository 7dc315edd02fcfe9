import { randomBytes } from "node:crypto";
import { toBase64Url } from "@countersign/protocol";
import type { TokenDigester } from "../accounts/token-digest.ts";
import type { Database } from "../db/database.ts";
import { RELAXED_COMMIT } from "../db/relaxed-commit.ts";

/** A decision nonce lives as long as a WebAuthn ceremony may take. */
export const DECISION_NONCE_TTL_MS = 5 * 60 * 1000;

const NONCE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Single-use decision nonces (DESIGN §4.6 step 1, A-5). The app gets one with the request and
 * puts it in the WebAuthn challenge; the decision consumes it with DELETE … RETURNING, so a
 * captured decision (assertion and all) cannot be sent twice. Stored as a keyed digest bound to
 * the request and the person.
 *
 * Both statements commit relaxed (`RELAXED_COMMIT`), each on its own, never inside a caller's
 * transaction: the store takes the database, not a transaction. After a crash, a nonce whose
 * issue was lost is refused (the app fetches another); one whose consumption was lost could be
 * spent again only where the first attempt changed nothing lasting — a decision made, and a
 * wrong number counted, commit later with a full flush that writes the consumption too — so a
 * replay can at most make, once, the decision the person's passkey signed.
 */
export interface DecisionNonces {
  issue(
    db: Database,
    init: { requestId: string; userId: string; now: Date },
  ): Promise<{ nonce: string; expiresAt: Date }>;
  /** True once, for a live nonce issued for exactly this request and person. */
  consume(db: Database, use: { nonce: string; requestId: string; userId: string; now: Date }): Promise<boolean>;
}

/** Builds the nonce store over the server's token digester. */
export function createDecisionNonces(digests: TokenDigester): DecisionNonces {
  const digestOf = (nonce: string, requestId: string) => digests.digest("decision-nonce", requestId, nonce);
  return Object.freeze({
    async issue(db: Database, init: { requestId: string; userId: string; now: Date }) {
      const nonce = toBase64Url(randomBytes(32));
      const expiresAt = new Date(init.now.getTime() + DECISION_NONCE_TTL_MS);
      await db.query(
        `INSERT INTO approval_decision_nonces (digest, request_id, user_id, expires_at) VALUES ($1, $2, $3, $4)
         RETURNING ${RELAXED_COMMIT}`,
        [digestOf(nonce, init.requestId), init.requestId, init.userId, expiresAt],
      );
      return { nonce, expiresAt };
    },
    async consume(db: Database, use: { nonce: string; requestId: string; userId: string; now: Date }) {
      if (typeof use.nonce !== "string" || !NONCE.test(use.nonce)) return false;
      const { rows } = await db.query<{ user_id: string; expires_at: Date }>(
        `DELETE FROM approval_decision_nonces WHERE digest = $1 AND request_id = $2
         RETURNING user_id, expires_at, ${RELAXED_COMMIT}`,
        [digestOf(use.nonce, use.requestId), use.requestId],
      );
      const row = rows[0];
      return row !== undefined && row.user_id === use.userId && row.expires_at.getTime() > use.now.getTime();
    },
  });
}
