import { importEd25519PublicKey } from "@countersign/protocol";
import type {
  AgentKeyResolver,
  AuthenticatedAgent,
  BearerTokenResolver,
  ResolvedAgentKey,
} from "../agent-auth/agent-request.ts";
import { createTickBatcher } from "../agent-auth/tick-batcher.ts";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";
import { AGENT_KEY_ID } from "./agent-key-id.ts";
import { type AgentRow, toAuthenticatedAgent } from "./agent-row.ts";
import type { AgentSecrets } from "./agent-secrets.ts";
import { findAgentByBearerDigest, findAgentsByIds, findKeyWithAgent, touchLastUsed } from "./agent-store.ts";

/** Last-used is written at most this often per agent (issue 5: "at most once a minute"). */
export const LAST_USED_GRANULARITY_MS = 60_000;
/** How many imported keys one process keeps. */
export const KEY_CACHE_SIZE = 10_000;

/** The request-side lookups of the agent domain. */
export interface AgentCredentials {
  readonly resolveKey: AgentKeyResolver;
  readonly resolveBearerToken: BearerTokenResolver;
  /** Records a request's use of the agent, at most once a minute per agent. */
  recordUse(agent: AuthenticatedAgent): Promise<void>;
}

interface CachedKey {
  readonly publicKey: CryptoKey;
  readonly agentId: string;
  readonly credentialsVersion: number;
}

/**
 * Builds the key and token lookups the request pipeline uses.
 *
 * Caching, and why revocation still applies at once: what is cached is only what can never
 * change for a key id — the imported CryptoKey, the agent it belongs to and the credentials
 * version it was enrolled under. A key id is the thumbprint of its key (`agentKeyId`) and
 * `agent_keys` rows are never updated, so a cached entry cannot go stale. Everything that does
 * change — status, credentials version, allowlists, auth mode — is in the agent row, which is
 * read fresh for every request (one primary-key lookup, the same round trip the key lookup
 * would cost). A revocation, suspension or rotation committed by any process therefore refuses
 * the very next request in every process, with no invalidation messages to lose. What the cache
 * saves is the key import and the join, not the freshness. Under load, the rows wanted by
 * requests arriving in the same turn of the event loop are read by one statement.
 */
export function createAgentCredentials(deps: {
  db: Queryable;
  clock: Clock;
  secrets: AgentSecrets;
  cacheSize?: number;
}): AgentCredentials {
  const cacheSize = deps.cacheSize ?? KEY_CACHE_SIZE;
  const cache = new Map<string, CachedKey>();
  // The agent rows asked for in one turn of the event loop, read by one statement.
  const loadAgent = createTickBatcher<string, AgentRow | undefined>(async (ids) => {
    const rows = await findAgentsByIds(deps.db, [...new Set(ids)]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  });

  const remember = (keyId: string, entry: CachedKey) => {
    cache.set(keyId, entry);
    // Map keeps insertion order: the first key is the least recently used one.
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
  };

  return Object.freeze({
    async resolveKey(keyId: string): Promise<ResolvedAgentKey | null> {
      if (!AGENT_KEY_ID.test(keyId)) return null;
      const cached = cache.get(keyId);
      if (cached !== undefined) {
        cache.delete(keyId);
        cache.set(keyId, cached);
        const row = await loadAgent(cached.agentId);
        if (row === undefined) return null;
        return {
          publicKey: cached.publicKey,
          credentialsVersion: cached.credentialsVersion,
          agent: toAuthenticatedAgent(row),
        };
      }
      const row = await findKeyWithAgent(deps.db, keyId);
      if (row === undefined) return null;
      const publicKey = await importEd25519PublicKey(row.key_public_key);
      if (publicKey === null) return null;
      remember(keyId, { publicKey, agentId: row.id, credentialsVersion: row.key_credentials_version });
      return { publicKey, credentialsVersion: row.key_credentials_version, agent: toAuthenticatedAgent(row) };
    },

    async resolveBearerToken(token: string) {
      const digest = deps.secrets.bearerTokenDigest(token);
      if (digest === null) return null;
      const row = await findAgentByBearerDigest(deps.db, digest);
      if (row === undefined || row.bearer_expires_at === null) return null;
      return { agent: toAuthenticatedAgent(row), expiresAt: row.bearer_expires_at.getTime() };
    },

    async recordUse(agent: AuthenticatedAgent): Promise<void> {
      const now = deps.clock.now();
      // The row was just read: skip the write while its last use is recent.
      if (agent.lastUsedAt !== null && now - agent.lastUsedAt < LAST_USED_GRANULARITY_MS) return;
      await touchLastUsed(deps.db, agent.id, new Date(now), LAST_USED_GRANULARITY_MS);
    },
  });
}
