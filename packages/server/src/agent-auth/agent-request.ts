import type { AgentAuthMode, AgentStatus, HttpRequestParts, ParsedRequestSignature } from "@countersign/protocol";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";

// How an agent authenticates (fixed when the agent is created, read only from its row: T-10)
// and its lifecycle states: the protocol package's, shared with the app.
export type { AgentAuthMode, AgentStatus };

/**
 * The agent row as the checks see it: current as of a moment after the request arrived (read
 * then, or vouched for by the agent change counter, `checkAgentCurrent`), so a revocation,
 * suspension or rotation applies to the very next request in every process.
 */
export interface AuthenticatedAgent {
  readonly id: string;
  /** The person the agent acts for. */
  readonly userId: string;
  readonly name: string;
  /** The only source of the auth mode (T-10): never a header, a parameter or the body. */
  readonly authMode: AgentAuthMode;
  readonly status: AgentStatus;
  /** Goes up by one on every rotation; a key enrolled under an older version is refused. */
  readonly credentialsVersion: number;
  /** Exact action types and `prefix.*` patterns the agent may ask for. */
  readonly allowedActions: readonly string[];
  /** Normalized addresses and CIDR ranges; empty allows any address (signed mode only). */
  readonly ipAllowlist: readonly string[];
  /** Null: the person's default TTL setting applies (issue 6 part 1). */
  readonly defaultTtlSeconds: number | null;
  /** When a request last got through, in ms since the epoch; null before the first. */
  readonly lastUsedAt: number | null;
  /** The account key set its context is encrypted to (DESIGN §4.11); null for plaintext context. */
  readonly e2eAccountKeyId: string | null;
}

/** What the agents domain returns for a key id: the key, and whose it is. */
export interface ResolvedAgentKey {
  readonly publicKey: CryptoKey;
  /** The credentials version the key was enrolled under. */
  readonly credentialsVersion: number;
  /**
   * The agent this key belongs to; null only for a key being enrolled (its proof of possession,
   * DESIGN §4.3), which the agent-state check would refuse. It may come from a cache and be out
   * of date: `checkAgentCurrent` settles that after the nonce, before anything judges it.
   */
  readonly agent: AuthenticatedAgent | null;
}

/** Looks an agent's public key up by the `keyid` signature parameter; null when unknown. */
export type AgentKeyResolver = (keyId: string) => Promise<ResolvedAgentKey | null>;

/** What the agents domain returns for a bearer token (DESIGN §4.2). */
export interface ResolvedBearerToken {
  readonly agent: AuthenticatedAgent;
  /** The token's expiry, in ms since the epoch. */
  readonly expiresAt: number;
}

/** Looks a bearer-only agent up by its token (through the token's keyed digest); null when unknown. */
export type BearerTokenResolver = (token: string) => Promise<ResolvedBearerToken | null>;

/** An incoming agent request, reduced to what the checks read. */
export interface AgentRequest {
  readonly parts: HttpRequestParts;
  /** The raw body bytes; undefined when the request has no body. */
  readonly body: Uint8Array | undefined;
  /** The client address: the socket peer, or `X-Forwarded-For` only from a trusted proxy. */
  readonly clientIp: string;
}

/** What the checks learn as they run, in order. */
export interface AgentRequestState {
  /** Which credential the request presented; set when the check list is chosen. */
  authMode?: AgentAuthMode;
  signature?: ParsedRequestSignature;
  key?: ResolvedAgentKey;
  /** The agent, once its credential (signature or bearer token) has been verified. */
  agent?: AuthenticatedAgent;
  /**
   * The agent change counter (migration 010) as the statement that consumed the nonce saw it:
   * the agent row judged after that must reflect every change up to it. Null when not read.
   */
  agentChangeSeq?: number | null;
}

/** A nonce consumed, and the agent change counter as the same statement saw it. */
export interface NonceConsumption {
  /** False when the (key id, nonce) pair was seen within the window: a replay. */
  readonly fresh: boolean;
  readonly agentChangeSeq: number | null;
}

/** Everything the checks depend on, injected once when the pipeline is built. */
export interface AgentRequestDeps {
  readonly db: Queryable;
  readonly clock: Clock;
  readonly apiHost: string;
  readonly maxSkewSeconds: number;
  readonly nonceTtlSeconds: number;
  readonly resolveKey: AgentKeyResolver;
  readonly resolveBearerToken: BearerTokenResolver;
  /** `COUNTERSIGN_BEARER_ONLY_ALLOWED`: while false, every bearer request is refused. */
  readonly bearerOnlyAllowed: boolean;
  /** Whether `COUNTERSIGN_TRUST_PROXY` names a proxy; when not, forwarded requests fail IP allowlists. */
  readonly proxyTrusted?: boolean;
  /** Consumes a nonce (batched across concurrent requests); `consumeNonce` on `db` when absent. */
  readonly consumeNonce?: (input: {
    keyId: string;
    nonce: string;
    nowMs: number;
    ttlSeconds: number;
  }) => Promise<NonceConsumption>;
  /**
   * After the nonce: the agent row as current as of `asOf` (`AgentRequestState.agentChangeSeq`),
   * from the agents domain's cache when it can vouch for it, else read; null when the agent is
   * gone. Absent, the row `resolveKey` returned is judged as it is.
   */
  readonly currentAgent?: (
    agent: AuthenticatedAgent,
    asOf: number | null,
  ) => AuthenticatedAgent | null | Promise<AuthenticatedAgent | null>;
}

/** One step of the pipeline: throws a coded `CountersignError` to refuse the request. */
export type AgentRequestCheck = (
  request: AgentRequest,
  state: AgentRequestState,
  deps: AgentRequestDeps,
) => void | Promise<void>;
