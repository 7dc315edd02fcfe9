import { createHash } from "node:crypto";
import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";
import type { AgentRequest } from "./agent-request.ts";
import type { IdempotencyResponseCipher } from "./idempotency-response-cipher.ts";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  completeIdempotencyKeyWithin,
  type IdempotencyClaim,
  type IdempotencyClaimInput,
  type IdempotencyCompletion,
  type IdempotencyKeyRef,
  releaseIdempotencyKey,
} from "./idempotency-store.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The Idempotency-Key this request holds, until its response is stored or the key released. */
    idempotency?: HeldIdempotencyKey;
  }
}

/** An Idempotency-Key a request holds (see {@link beginIdempotentRequest}). */
export interface HeldIdempotencyKey extends IdempotencyKeyRef {
  /** True once its response is stored or the key released; the send hook then leaves it alone. */
  settled: boolean;
  /**
   * Stores `response` as the key's answer inside `tx`, the transaction that makes the request's
   * change, so both commit or neither does. The caller sets `settled` once `tx` has committed and
   * sends exactly `response.body`; until then the send hook still stores or releases as usual.
   */
  storeWithin(tx: Queryable, response: { status: number; contentType: string; body: string }): Promise<void>;
}

/** The content type Fastify gives a JSON answer, and the one stored with it. */
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** An Idempotency-Key is single use per agent for this long (T-8). */
export const IDEMPOTENCY_TTL_SECONDS = 86_400;
/** A key held this long by a request that never finished (its process died) may be taken over. */
export const IDEMPOTENCY_LEASE_SECONDS = 60;

// Printable ASCII without leading or trailing space, 1–255 characters: UUIDs, ULIDs, and the
// quoted sf-string form of draft-ietf-httpapi-idempotency-key-header all fit; the value is opaque.
const KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;
const EMPTY = new Uint8Array(0);

/**
 * What "the same request" means for a key: SHA-256 over method, path, query and the SHA-256 of
 * the exact body bytes. Headers are left out (a retry may carry a new signature and nonce).
 */
export function idempotencyRequestHash(request: AgentRequest): string {
  const { method, path, query } = request.parts;
  const body = createHash("sha256")
    .update(request.body ?? EMPTY)
    .digest("hex");
  return createHash("sha256").update(`${method}\n${path}\n${query}\n${body}`).digest("hex");
}

/**
 * Applies the Idempotency-Key rules to an authenticated agent POST (DESIGN §4.4, T-8), modelled
 * on draft-ietf-httpapi-idempotency-key-header:
 *
 * - no key → 400 `idempotency_key_required`;
 * - a new key → the request runs and holds the key; its response is stored when sent;
 * - the key with the same request, finished → the stored status and body are sent again, with
 *   `Idempotency-Replayed: true`, and the handler does not run;
 * - the key with a different request → 422 `idempotency_key_reused`;
 * - the key with the same request, still running (a concurrent duplicate) → 409
 *   `idempotency_key_in_progress` with `Retry-After: 1`; the retry then gets the stored answer.
 *
 * Returns true when it answered the request itself (a replay).
 */
export async function beginIdempotentRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { agentRequest: AgentRequest; agentId: string },
  deps: {
    db: Queryable;
    clock: Clock;
    responseCipher: IdempotencyResponseCipher;
    /** Claims a key (batched across concurrent requests); `claimIdempotencyKey` on `db` when absent. */
    claimIdempotency?: (input: IdempotencyClaimInput) => Promise<IdempotencyClaim>;
  },
): Promise<boolean> {
  const key = input.agentRequest.parts.headers["idempotency-key"];
  if (key === undefined) throw new CountersignError("idempotency_key_required");
  if (!KEY.test(key)) {
    throw new CountersignError("validation_failed", {
      message: "The Idempotency-Key must be 1 to 255 printable ASCII characters.",
    });
  }
  const claimKey = deps.claimIdempotency ?? ((input: IdempotencyClaimInput) => claimIdempotencyKey(deps.db, input));
  const claim = await claimKey({
    agentId: input.agentId,
    key,
    requestHash: idempotencyRequestHash(input.agentRequest),
    nowMs: deps.clock.now(),
    ttlSeconds: IDEMPOTENCY_TTL_SECONDS,
    leaseSeconds: IDEMPOTENCY_LEASE_SECONDS,
  });
  switch (claim.kind) {
    case "claimed": {
      const ref = { agentId: input.agentId, key };
      request.idempotency = {
        ...ref,
        settled: false,
        storeWithin: (tx, response) =>
          completeIdempotencyKeyWithin(tx, { ...ref, ...response, body: deps.responseCipher.seal(ref, response.body) }),
      };
      return false;
    }
    case "replay": {
      const body = deps.responseCipher.open({ agentId: input.agentId, key }, claim.body);
      if (body === null) throw new Error("a stored idempotent response does not open under this server's key");
      reply.code(claim.status).header("idempotency-replayed", "true").type(claim.contentType).send(body);
      return true;
    }
    case "mismatch":
      throw new CountersignError("idempotency_key_reused");
    case "in_progress":
      throw new CountersignError("idempotency_key_in_progress", { retryAfter: 1 });
  }
}

/**
 * Stores the response of every request that holds a key, before it is sent, so that a retry
 * arriving right after sees it. A server-side failure (5xx) releases the key instead, so the
 * agent may retry the same request; so does 429 (cool-down, throttle), whose whole point is
 * "retry this later", which a stored answer would forbid forever. Other 4xx answers are stored
 * like successes, since repeating the request would get the same answer.
 */
export function registerIdempotencyCompletion(
  app: FastifyInstance,
  deps: {
    db: Queryable;
    responseCipher: IdempotencyResponseCipher;
    /** Stores a response (batched across concurrent requests); `completeIdempotencyKey` on `db` when absent. */
    completeIdempotency?: (input: IdempotencyCompletion) => Promise<void>;
  },
): void {
  const complete =
    deps.completeIdempotency ?? ((input: IdempotencyCompletion) => completeIdempotencyKey(deps.db, input));
  // Callback style: most responses hold no key, and should not pay for a promise each.
  app.addHook("onSend", (request, reply, payload, done) => {
    const held = request.idempotency;
    if (held === undefined || held.settled) {
      done(null, payload);
      return;
    }
    held.settled = true;
    const ref = { agentId: held.agentId, key: held.key };
    const store = async () => {
      if (reply.statusCode >= 500 || reply.statusCode === 429 || typeof payload !== "string") {
        await releaseIdempotencyKey(deps.db, ref);
      } else {
        await complete({
          ...ref,
          status: reply.statusCode,
          contentType: String(reply.getHeader("content-type") ?? JSON_CONTENT_TYPE),
          body: deps.responseCipher.seal(ref, payload),
        });
      }
    };
    store()
      .catch((err: unknown) => {
        // The response still goes out; the key stays held until its lease ends, then a retry runs.
        request.log.error({ err }, "could not store the idempotent response");
      })
      .finally(() => done(null, payload));
  });
}
