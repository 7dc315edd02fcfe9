import { importEd25519PublicKey } from "@countersign/protocol";
import type {
  AgentKeyResolver,
  AgentRequestDeps,
  AuthenticatedAgent,
  BearerTokenResolver,
  ResolvedAgentKey,
} from "../agent-auth/agent-request.ts";
import type { Clock } from "../clock.ts";
import type { Database } from "../db/database.ts";
import { AGENT_KEY_ID } from "./agent-key-id.ts";
import { toAuthenticatedAgent } from "./agent-row.ts";
import { createAgentRowCache } from "./agent-row-cache.ts";
import type { AgentSecrets } from "./agent-secrets.ts";
import { findAgentByBearerDigest, findKeyWithAgent, touchLastUsed } from "./agent-store.ts";

/** Last-used is written at most this often per agent (issue 5: "at most once a minute"). */
export const LAST_USED_GRANULARITY_MS = 60_000;
/** How many imported keys, and how many agent rows, one process keeps. */
export const KEY_CACHE_SIZE = 10_000;

/** The request-side lookups of the agent domain. */
export interface AgentCredentials {
  readonly resolveKey: AgentKeyResolver;
  readonly resolveBearerToken: BearerTokenResolver;
  /** The pipeline's `currentAgent` (`checkAgentCurrent`): the row cache's answer, or a fresh read. */
  readonly currentAgent: NonNullable<AgentRequestDeps["currentAgent"]>;
  /** Records a request's use of the agent, at most once a minute per agent. */
  recordUse(agent: AuthenticatedAgent): Promise<void>;
  /** Stops the agent row cache's LISTEN (the app calls it on close). */
  close(): Promise<void>;
}

interface CachedKey {
  readonly publicKey: CryptoKey;
  readonly agentId: string;
  readonly credentialsVersion: number;
}

/**
 * Builds the key and token lookups the request pipeline uses.
 *
 * Two caches, and why revocation still applies to the next request:
 * - Keys, by key id: the imported CryptoKey, the agent it belongs to and the credentials version
 *   it was enrolled under. A key id is the thumbprint of its key (`agentKeyId`) and `agent_keys`
 *   rows are never updated, so an entry cannot go stale; one is dropped anyway when a change to
 *   its agent is heard (a deleted agent's keys go with it).
 * - Agent rows, by agent id (`agent-row-cache.ts`): status, credentials version, allowlist and
 *   auth mode, which do change. `resolveKey` answers with the held row, and after the nonce is
 *   consumed `currentAgent` keeps it only if the agent change counter, read by the nonce's own
 *   statement, proves no change was missed (every change notifies every process, numbered, in
 *   commit order: migration 010); otherwise the row is read again. A revocation, suspension or
 *   rotation committed by any process before a request's nonce statement is therefore always
 *   seen by that request, whether or not its notification has arrived or was lost. Fresh reads
 *   wanted by requests in the same turn of the event loop are made by one statement.
 *
 * Last use is written at most once a minute per agent per process (the UPDATE itself skips rows
 * written less than a minute ago by any process), tracked here since a cached row's
 * `lastUsedAt` is not refreshed by those writes.
 */
export function createAgentCredentials(deps: {
  db: Database;
  clock: Clock;
  secrets: AgentSecrets;
  cacheSize?: number;
}): AgentCredentials {
  const cacheSize = deps.cacheSize ?? KEY_CACHE_SIZE;
  const keys = new Map<string, CachedKey>();
  const agents = createAgentRowCache({
    db: deps.db,
    maxEntries: cacheSize,
    onInvalidate(agentId) {
      if (agentId === null) keys.clear();
      else for (const [keyId, key] of keys) if (key.agentId === agentId) keys.delete(keyId);
    },
  });
  // When this process last wrote each agent's last use (ms since the epoch), bounded like the caches.
  const touched = new Map<string, number>();

  const remember = (keyId: string, entry: CachedKey) => {
    keys.set(keyId, entry);
    // Map keeps insertion order: the first key is the least recently used one.
    if (keys.size > cacheSize) keys.delete(keys.keys().next().value as string);
  };

  return Object.freeze({
    async resolveKey(keyId: string): Promise<ResolvedAgentKey | null> {
      if (!AGENT_KEY_ID.test(keyId)) return null;
      const cached = keys.get(keyId);
      if (cached !== undefined) {
        keys.delete(keyId);
        keys.set(keyId, cached);
        // Possibly out of date: `currentAgent` settles that after the nonce.
        const agent = await agents.get(cached.agentId);
        if (agent === undefined) return null;
        return { publicKey: cached.publicKey, credentialsVersion: cached.credentialsVersion, agent };
      }
      const row = await findKeyWithAgent(deps.db, keyId);
      if (row === undefined) return null;
      const publicKey = await importEd25519PublicKey(row.key_public_key);
      if (publicKey === null) return null;
      remember(keyId, { publicKey, agentId: row.id, credentialsVersion: row.key_credentials_version });
      return { publicKey, credentialsVersion: row.key_credentials_version, agent: toAuthenticatedAgent(row) };
    },

    currentAgent(agent: AuthenticatedAgent, asOf: number | null) {
      const current = agents.current(agent, asOf);
      return "then" in current ? current.then((row) => row ?? null) : current;
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
      const last = Math.max(agent.lastUsedAt ?? Number.NEGATIVE_INFINITY, touched.get(agent.id) ?? 0);
      if (now - last < LAST_USED_GRANULARITY_MS) return;
      // Claimed before the write, so the requests that arrive while it runs skip theirs.
      touched.delete(agent.id);
      touched.set(agent.id, now);
      if (touched.size > cacheSize) touched.delete(touched.keys().next().value as string);
      try {
        await touchLastUsed(deps.db, agent.id, new Date(now), LAST_USED_GRANULARITY_MS);
      } catch (error) {
        // Let the next request try again.
        touched.delete(agent.id);
        throw error;
      }
    },

    close: () => agents.close(),
  });
}
