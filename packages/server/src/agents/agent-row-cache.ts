import type { AuthenticatedAgent } from "../agent-auth/agent-request.ts";
import type { Database } from "../db/database.ts";
import { createTickBatcher } from "../db/tick-batcher.ts";
import { toAuthenticatedAgent } from "./agent-row.ts";
import { findAgentsByIdsWithChangeSeq, readAgentChangeSeq } from "./agent-store.ts";

/** The channel migration 010's triggers notify on: `<change number>:<agent id>`. */
export const AGENT_CHANGES_CHANNEL = "countersign_agent_changes";

/**
 * How long the counter may be seen ahead of the notifications heard before they count as lost
 * (they normally arrive about a millisecond after their commit). Until then rows are read fresh.
 */
export const LOST_NOTIFICATION_GRACE_MS = 250;

/** What an agent row cache is built from. */
export interface AgentRowCacheOptions {
  readonly db: Database;
  /** Most rows kept (default 10,000); the oldest go first. */
  readonly maxEntries?: number;
  /** Called with the agent of every change heard, and with null when everything is dropped. */
  readonly onInvalidate?: (agentId: string | null) => void;
  /** A monotonic clock in ms (tests); default `performance.now`. */
  readonly now?: () => number;
}

/** Agent rows for the request pipeline, kept between requests. */
export interface AgentRowCache {
  /**
   * The agent's row from memory if there is one, which may be out of date, else read now;
   * undefined when there is no such agent. Confirm it with {@link AgentRowCache.current}.
   */
  get(agentId: string): Promise<AuthenticatedAgent | undefined>;
  /**
   * The agent's row from memory when the cache can vouch that it reflects every agent change
   * numbered up to `asOf` (the counter as a statement run after the request arrived saw it);
   * otherwise the row read now. Undefined when the agent no longer exists. Without `asOf`, reads.
   */
  current(agent: AuthenticatedAgent, asOf: number | null): AuthenticatedAgent | Promise<AuthenticatedAgent | undefined>;
  /** Stops listening; rows are then always read. */
  close(): Promise<void>;
}

/**
 * A per-process cache of agent rows that never lets a request see a row older than the moment
 * after its arrival when its nonce was consumed (DESIGN §4.3: revoke, suspend and rotate apply
 * to the next request in every process).
 *
 * Migration 010 numbers every committed change to `agents` and `agent_keys`, in commit order,
 * and notifies `<number>:<agent id>`. This process LISTENs (`Database.listen`), drops the
 * changed agent's row as each notification arrives, and keeps `synced`: the number up to which
 * every change is reflected in what it holds. The statement that consumes a request's nonce also
 * returns the counter (`asOf`); a held row is used only when `asOf <= synced`. Otherwise — a
 * notification still on its way, or lost because the LISTEN connection dropped — the row is read
 * fresh, and if the notifications have not caught up within {@link LOST_NOTIFICATION_GRACE_MS},
 * or one arrives with a number skipped, everything held is dropped and `synced` moves to the
 * counter. So correctness rests on the counter, read for every request; notifications only
 * decide how often a row can be served from memory.
 *
 * A row read from the database is kept only if its statement saw every change up to `synced`
 * (it returns the counter it saw), so a read racing a notification cannot bring a dropped row back.
 */
export function createAgentRowCache(options: AgentRowCacheOptions): AgentRowCache {
  const { db } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, AuthenticatedAgent>();

  // Every change numbered up to `synced` is reflected in `entries`; null until subscribed.
  let synced: number | null = null;
  // The highest counter seen ahead of `synced`, and since when; null when caught up.
  let ahead: { seq: number; since: number } | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let starting: Promise<void> | null = null;
  let retryAt = Number.NEGATIVE_INFINITY;
  let closed = false;

  const dropAll = (seq: number) => {
    entries.clear();
    synced = seq;
    if (ahead !== null && ahead.seq <= seq) ahead = null;
    options.onInvalidate?.(null);
  };

  const onNotification = (payload: string) => {
    const colon = payload.indexOf(":");
    const seq = Number(payload.slice(0, colon));
    if (colon < 1 || !Number.isSafeInteger(seq)) return;
    const agentId = payload.slice(colon + 1);
    entries.delete(agentId);
    options.onInvalidate?.(agentId);
    if (synced === null || seq <= synced) return;
    // Notifications arrive in counter order: a skipped number was lost with its agent id.
    if (seq !== synced + 1) {
      dropAll(seq);
      return;
    }
    synced = seq;
    if (ahead !== null && ahead.seq <= seq) ahead = null;
  };

  const start = async () => {
    const stop = await db.listen(AGENT_CHANGES_CHANNEL, onNotification);
    if (closed) {
      await stop();
      return;
    }
    unlisten = stop;
    // Subscribed before reading: every change after this read is heard (or caught by `asOf`).
    const seq = await readAgentChangeSeq(db);
    if (!closed && synced === null) dropAll(seq);
  };
  const ensureStarted = () => {
    if (closed || unlisten !== null || starting !== null || now() < retryAt) return;
    starting = start()
      .catch(() => {
        // Not subscribed: rows are read fresh; try again in a while.
        retryAt = now() + 1_000;
      })
      .finally(() => {
        starting = null;
      });
  };

  // A counter beyond `synced`: changes not heard yet. After the grace, they count as lost.
  const sawCounter = (seq: number) => {
    if (synced === null || seq <= synced) return;
    if (ahead === null) ahead = { seq, since: now() };
    else if (seq > ahead.seq) ahead = { seq, since: ahead.since };
    if (now() - ahead.since > LOST_NOTIFICATION_GRACE_MS) dropAll(ahead.seq);
  };

  const load = createTickBatcher<string, AuthenticatedAgent | undefined>(async (ids) => {
    const rows = await findAgentsByIdsWithChangeSeq(db, [...new Set(ids)]);
    const byId = new Map<string, AuthenticatedAgent>();
    for (const row of rows) {
      const agent = toAuthenticatedAgent(row);
      byId.set(row.id, agent);
      sawCounter(row.change_seq);
      if (!closed && synced !== null && row.change_seq >= synced) {
        entries.delete(row.id);
        entries.set(row.id, agent);
        // Map keeps insertion order: the first entry is the oldest.
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      }
    }
    return ids.map((id) => byId.get(id));
  });

  return {
    get(agentId) {
      ensureStarted();
      const held = entries.get(agentId);
      return held === undefined ? load(agentId) : Promise.resolve(held);
    },
    current(agent, asOf) {
      ensureStarted();
      if (asOf !== null) sawCounter(asOf);
      // What is held reflects every change up to `synced`, whichever read brought it in.
      const held = entries.get(agent.id);
      if (held !== undefined && asOf !== null && synced !== null && asOf <= synced) return held;
      return load(agent.id);
    },
    async close() {
      closed = true;
      entries.clear();
      synced = null;
      await starting;
      const stop = unlisten;
      unlisten = null;
      await stop?.();
    },
  };
}
