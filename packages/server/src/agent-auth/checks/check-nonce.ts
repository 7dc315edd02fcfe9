import { CountersignError } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";
import { consumeNonce } from "../nonce-store.ts";

/**
 * Each (keyid, nonce) is accepted once within the nonce window (DESIGN §4.1, T-8). Runs last, so
 * only authentic, timely requests spend a nonce.
 */
export const checkNonce: AgentRequestCheck = async (_request, state, deps) => {
  const params = state.signature?.params;
  if (params === undefined) throw new CountersignError("invalid_signature");
  const input = { keyId: params.keyid, nonce: params.nonce, nowMs: deps.clock.now(), ttlSeconds: deps.nonceTtlSeconds };
  const consumed = deps.consumeNonce
    ? await deps.consumeNonce(input)
    : { fresh: await consumeNonce(deps.db, input), agentChangeSeq: null };
  if (!consumed.fresh) throw new CountersignError("nonce_replay");
  state.agentChangeSeq = consumed.agentChangeSeq;
};
