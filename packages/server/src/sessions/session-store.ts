import { toHex } from "@countersign/protocol";
import { createBatchedLookup } from "../db/batched-lookup.ts";
import type { Queryable } from "../db/database.ts";
import type { Session, SessionAuthMethod } from "./session.ts";

/**
 * The `sessions` table (migration 004) as SQL, one statement per function. Nothing here knows the
 * session id: rows are found by its keyed digest or by the public handle.
 */

/** A row of `sessions`. */
export interface SessionRow {
  id_digest: Uint8Array;
  handle: string;
  user_id: string;
  data: Uint8Array;
  auth_method: SessionAuthMethod;
  created_at: Date;
  last_seen_at: Date;
  idle_expires_at: Date;
  absolute_expires_at: Date;
  step_up_at: Date | null;
  user_agent: string | null;
  ip_digest: Uint8Array | null;
  /** The bound device (migration 012); always null when a session starts. */
  device_id: string | null;
}

const COLUMNS =
  "id_digest, handle, user_id, data, auth_method, created_at, last_seen_at, idle_expires_at, " +
  "absolute_expires_at, step_up_at, user_agent, ip_digest, device_id";

/** The public view of a row, with its user agent already decrypted (or null). */
export function toSession(row: SessionRow, userAgent: string | null): Session {
  return {
    id: row.handle,
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.idle_expires_at,
    stepUpAt: row.step_up_at,
    authMethod: row.auth_method,
    userAgent,
    deviceId: row.device_id,
  };
}

/** Inserts a new session. */
export async function insertSession(q: Queryable, row: SessionRow): Promise<void> {
  await q.query(`INSERT INTO sessions (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, [
    row.id_digest,
    row.handle,
    row.user_id,
    row.data,
    row.auth_method,
    row.created_at,
    row.last_seen_at,
    row.idle_expires_at,
    row.absolute_expires_at,
    row.step_up_at,
    row.user_agent,
    row.ip_digest,
    row.device_id,
  ]);
}

/** The session stored under this id digest, expired or not. */
export function findSessionByDigest(q: Queryable, idDigest: Uint8Array): Promise<SessionRow | undefined> {
  return lookupSession(q, idDigest);
}

// Every signed-in request reads its session: concurrent requests read theirs together.
const lookupSession = createBatchedLookup<Uint8Array, SessionRow>({
  sql: `SELECT ${COLUMNS} FROM sessions WHERE id_digest = ANY($1::bytea[])`,
  idOf: toHex,
  rowId: (row) => toHex(row.id_digest),
});

/**
 * Records use: moves `last_seen_at` and the idle expiry forward, never backwards (a slower
 * concurrent request with an older time changes nothing). Returns whether the row changed.
 */
export async function touchSession(
  q: Queryable,
  idDigest: Uint8Array,
  seenAt: Date,
  idleExpiresAt: Date,
): Promise<boolean> {
  const result = await q.query(
    `UPDATE sessions SET last_seen_at = $2, idle_expires_at = LEAST($3, absolute_expires_at)
     WHERE id_digest = $1 AND last_seen_at < $2`,
    [idDigest, seenAt, idleExpiresAt],
  );
  return result.rowCount === 1;
}

/** Deletes the session stored under this id digest. */
export async function deleteSessionByDigest(q: Queryable, idDigest: Uint8Array): Promise<void> {
  await q.query("DELETE FROM sessions WHERE id_digest = $1", [idDigest]);
}

/** Records a step-up; never moves it backwards. Returns whether the session exists. */
export async function setStepUp(q: Queryable, handle: string, at: Date): Promise<boolean> {
  const result = await q.query(
    "UPDATE sessions SET step_up_at = GREATEST(step_up_at, $2) WHERE handle = $1 RETURNING 1",
    [handle, at],
  );
  return result.rowCount === 1;
}

/** Deletes a session by handle, for any user; returns whether it existed. */
export async function deleteSessionByHandle(q: Queryable, handle: string): Promise<boolean> {
  const result = await q.query("DELETE FROM sessions WHERE handle = $1", [handle]);
  return result.rowCount === 1;
}

/** The user's sessions that have not expired at `now`, most recently used first. */
export async function listLiveSessions(q: Queryable, userId: string, now: Date): Promise<SessionRow[]> {
  const { rows } = await q.query<SessionRow>(
    `SELECT ${COLUMNS} FROM sessions WHERE user_id = $1 AND idle_expires_at > $2
     ORDER BY last_seen_at DESC, created_at DESC, handle`,
    [userId, now],
  );
  return rows;
}

/**
 * Deletes the user's sessions (all, or one by handle; `except` spares one) and returns how many
 * of them were still live at `now`: an expired one that had not been swept yet does not count.
 */
export async function deleteUserSessions(
  q: Queryable,
  userId: string,
  now: Date,
  filter: { only?: string; except?: string },
): Promise<number> {
  const { rows } = await q.query<{ live: number }>(
    `WITH deleted AS (
       DELETE FROM sessions
       WHERE user_id = $1 AND ($2::text IS NULL OR handle = $2) AND ($3::text IS NULL OR handle <> $3)
       RETURNING idle_expires_at
     )
     SELECT count(*) FILTER (WHERE idle_expires_at > $4)::int AS live FROM deleted`,
    [userId, filter.only ?? null, filter.except ?? null, now],
  );
  return rows[0]?.live ?? 0;
}

/** Deletes every session expired at `now`; returns how many. Run periodically. */
export async function sweepExpiredSessions(q: Queryable, now: Date): Promise<number> {
  const result = await q.query("DELETE FROM sessions WHERE idle_expires_at <= $1", [now]);
  return result.rowCount;
}

/**
 * Binds the user's session with this handle to one of the user's devices (src/devices checks the
 * device first). Returns whether the session exists.
 */
export async function bindSessionDevice(
  q: Queryable,
  userId: string,
  handle: string,
  deviceId: string,
): Promise<boolean> {
  const result = await q.query("UPDATE sessions SET device_id = $3 WHERE user_id = $1 AND handle = $2", [
    userId,
    handle,
    deviceId,
  ]);
  return result.rowCount === 1;
}

/** Deletes every session bound to a device (it was revoked); returns how many. */
export async function deleteDeviceSessions(q: Queryable, deviceId: string): Promise<number> {
  const result = await q.query("DELETE FROM sessions WHERE device_id = $1", [deviceId]);
  return result.rowCount;
}
