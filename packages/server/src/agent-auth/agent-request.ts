import type { HttpRequestParts, ParsedRequestSignature } from "@countersign/protocol";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";

/** What the agents domain returns for a key id: the key, and whose it is. */
export interface ResolvedAgentKey {
  readonly publicKey: CryptoKey;
  /** The agent this key belongs to; the agents issue fills in the rest. */
  readonly agent: { readonly id: string };
}

/** Looks an agent's public key up by the `keyid` signature parameter; null when unknown. */
export type AgentKeyResolver = (keyId: string) => Promise<ResolvedAgentKey | null>;

/** An incoming agent request, reduced to what the checks read. */
export interface AgentRequest {
  readonly parts: HttpRequestParts;
  /** The raw body bytes; undefined when the request has no body. */
  readonly body: Uint8Array | undefined;
}

/** What the checks learn as they run, in order. */
export interface AgentRequestState {
  signature?: ParsedRequestSignature;
  key?: ResolvedAgentKey;
}

/** Everything the checks depend on, injected once when the pipeline is built. */
export interface AgentRequestDeps {
  readonly db: Queryable;
  readonly clock: Clock;
  readonly apiHost: string;
  readonly maxSkewSeconds: number;
  readonly nonceTtlSeconds: number;
  readonly resolveKey: AgentKeyResolver;
}

/** One step of the pipeline: throws a coded `CountersignError` to refuse the request. */
export type AgentRequestCheck = (
  request: AgentRequest,
  state: AgentRequestState,
  deps: AgentRequestDeps,
) => void | Promise<void>;
