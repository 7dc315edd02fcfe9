import { randomBytes } from "node:crypto";
import { toBase64Url } from "@countersign/protocol";
import type { TokenDigester } from "../accounts/token-digest.ts";
import type { Database } from "../db/database.ts";
import { RELAXED_COMMIT } from "../db/relaxed-commit.ts";
import { createTickBatcherPer } from "../db/tick-batcher.ts";

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
 *
 * Concurrent decisions consume their nonces together: the nonces that arrive while one DELETE
 * runs go in the next, one statement and one commit for all of them (as agent nonces do). Each
 * decision still learns only whether its own nonce was live when that statement ran.
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
  // Per pool: one DELETE at a time, the nonces that arrive meanwhile going in the next.
  const consumeInTurn = createTickBatcherPer(consumeAll, { maxInFlight: 1 });
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
    consume(db: Database, use: { nonce: string; requestId: string; userId: string; now: Date }) {
      if (typeof use.nonce !== "string" || !NONCE.test(use.nonce)) return Promise.resolve(false);
      const digest = digestOf(use.nonce, use.requestId);
      return consumeInTurn(db, { digest, requestId: use.requestId, userId: use.userId, now: use.now });
    },
  });
}

interface NonceUse {
  readonly digest: string;
  readonly requestId: string;
  readonly userId: string;
  readonly now: Date;
}

/** Consumes a batch of nonces with one DELETE; a nonce quoted twice in the batch is spent by the first. */
async function consumeAll(db: Database, uses: readonly NonceUse[]): Promise<boolean[]> {
  const seen = new Set<string>();
  const firsts = uses.map((use) => {
    const first = !seen.has(use.digest);
    seen.add(use.digest);
    return first;
  });
  const distinct = uses.filter((_, i) => firsts[i]);
  const { rows } = await db.query<{ digest: string; request_id: string; user_id: string; expires_at: Date }>(
    `DELETE FROM approval_decision_nonces AS n
      USING unnest($1::text[], $2::text[]) AS t (digest, request_id)
      WHERE n.digest = t.digest AND n.request_id = t.request_id
     RETURNING n.digest, n.request_id, n.user_id, n.expires_at, ${RELAXED_COMMIT}`,
    [distinct.map((use) => use.digest), distinct.map((use) => use.requestId)],
  );
  const spent = new Map(rows.map((row) => [row.digest, row]));
  return uses.map((use, i) => {
    const row = spent.get(use.digest);
    // The digest binds the request (it is keyed over it); the row's request id must match too.
    return (
      firsts[i] === true &&
      row !== undefined &&
      row.request_id === use.requestId &&
      row.user_id === use.userId &&
      row.expires_at.getTime() > use.now.getTime()
    );
  });
}
