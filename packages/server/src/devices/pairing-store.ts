import type { Queryable } from "../db/database.ts";

/**
 * The `pairing_sessions` table (migration 012) as SQL: what the relay keeps of a CPace run
 * between two devices. The messages and tags are CPace's public values; `sealed_auk` is the AUK
 * under a key only the two devices can derive.
 */

/** A pairing's states (migration 012). `waiting`, `joined` and `confirmed` are open. */
export type PairingState = "waiting" | "joined" | "confirmed" | "completed" | "failed" | "expired" | "canceled";

/** The states in which a pairing can still move forward. */
export const OPEN_PAIRING_STATES: readonly PairingState[] = ["waiting", "joined", "confirmed"];

/** A stored pairing. */
export interface PairingRow {
  readonly id: string;
  readonly userId: string;
  readonly sid: Uint8Array;
  readonly initiatorDeviceId: string;
  readonly responderDeviceId: string | null;
  readonly initiatorMessage: Uint8Array;
  readonly responderMessage: Uint8Array | null;
  readonly responderTag: Uint8Array | null;
  readonly initiatorTag: Uint8Array | null;
  readonly sealedAuk: string | null;
  readonly state: PairingState;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

interface StoredPairing {
  id: string;
  user_id: string;
  sid: Uint8Array;
  initiator_device_id: string;
  responder_device_id: string | null;
  initiator_message: Uint8Array;
  responder_message: Uint8Array | null;
  responder_tag: Uint8Array | null;
  initiator_tag: Uint8Array | null;
  sealed_auk: string | null;
  state: PairingState;
  created_at: Date;
  expires_at: Date;
}

const COLUMNS =
  "id, user_id, sid, initiator_device_id, responder_device_id, initiator_message, responder_message, " +
  "responder_tag, initiator_tag, sealed_auk, state, created_at, expires_at";

const bytesOrNull = (value: Uint8Array | null) => (value === null ? null : new Uint8Array(value));

const toRow = (row: StoredPairing): PairingRow => ({
  id: row.id,
  userId: row.user_id,
  sid: new Uint8Array(row.sid),
  initiatorDeviceId: row.initiator_device_id,
  responderDeviceId: row.responder_device_id,
  initiatorMessage: new Uint8Array(row.initiator_message),
  responderMessage: bytesOrNull(row.responder_message),
  responderTag: bytesOrNull(row.responder_tag),
  initiatorTag: bytesOrNull(row.initiator_tag),
  sealedAuk: row.sealed_auk,
  state: row.state,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
});

/** Stores a new pairing in state `waiting`. */
export async function insertPairing(
  q: Queryable,
  pairing: Pick<
    PairingRow,
    "id" | "userId" | "sid" | "initiatorDeviceId" | "initiatorMessage" | "createdAt" | "expiresAt"
  >,
): Promise<PairingRow> {
  const { rows } = await q.query<StoredPairing>(
    `INSERT INTO pairing_sessions (id, user_id, sid, initiator_device_id, initiator_message, state, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, 'waiting', $6, $7) RETURNING ${COLUMNS}`,
    [
      pairing.id,
      pairing.userId,
      pairing.sid,
      pairing.initiatorDeviceId,
      pairing.initiatorMessage,
      pairing.createdAt,
      pairing.expiresAt,
    ],
  );
  return toRow(rows[0] as StoredPairing);
}

/** The user's pairing with this id; `lock` takes a row lock, so its state changes one at a time. */
export async function findPairing(
  q: Queryable,
  userId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<PairingRow | null> {
  const { rows } = await q.query<StoredPairing>(
    `SELECT ${COLUMNS} FROM pairing_sessions WHERE user_id = $1 AND id = $2${options.lock ? " FOR UPDATE" : ""}`,
    [userId, id],
  );
  return rows[0] === undefined ? null : toRow(rows[0]);
}

/** The user's newest pairing still `waiting` at `now`, or null. */
export async function findOpenPairing(q: Queryable, userId: string, now: Date): Promise<PairingRow | null> {
  const { rows } = await q.query<StoredPairing>(
    `SELECT ${COLUMNS} FROM pairing_sessions
      WHERE user_id = $1 AND state = 'waiting' AND expires_at > $2
      ORDER BY created_at DESC, id LIMIT 1`,
    [userId, now],
  );
  return rows[0] === undefined ? null : toRow(rows[0]);
}

/** When the user's pairings created since `since` were created, oldest first. */
export async function pairingsCreatedSince(q: Queryable, userId: string, since: Date): Promise<Date[]> {
  const { rows } = await q.query<{ created_at: Date }>(
    "SELECT created_at FROM pairing_sessions WHERE user_id = $1 AND created_at > $2 ORDER BY created_at",
    [userId, since],
  );
  return rows.map((row) => row.created_at);
}

/** The columns a state change may set. */
export interface PairingChange {
  readonly state: PairingState;
  readonly responderDeviceId?: string;
  readonly responderMessage?: Uint8Array;
  readonly responderTag?: Uint8Array;
  readonly initiatorTag?: Uint8Array;
  readonly sealedAuk?: string;
  /** Forget the tags and the sealed AUK: they have served their purpose, or must not be used. */
  readonly clearSecrets?: boolean;
}

/**
 * Moves a pairing from `from` to `change.state`, setting the given columns. Returns the new row,
 * or null when the pairing was not in `from` (a concurrent change came first).
 */
export async function changePairing(
  q: Queryable,
  id: string,
  from: PairingState,
  change: PairingChange,
): Promise<PairingRow | null> {
  const clear = change.clearSecrets === true;
  const { rows } = await q.query<StoredPairing>(
    `UPDATE pairing_sessions
        SET state = $3,
            responder_device_id = COALESCE($4, responder_device_id),
            responder_message = COALESCE($5, responder_message),
            responder_tag = CASE WHEN $8 THEN NULL ELSE COALESCE($6, responder_tag) END,
            initiator_tag = CASE WHEN $8 THEN NULL ELSE COALESCE($7, initiator_tag) END,
            sealed_auk = CASE WHEN $8 THEN NULL ELSE COALESCE($9, sealed_auk) END
      WHERE id = $1 AND state = $2
      RETURNING ${COLUMNS}`,
    [
      id,
      from,
      change.state,
      change.responderDeviceId ?? null,
      change.responderMessage ?? null,
      change.responderTag ?? null,
      change.initiatorTag ?? null,
      clear,
      change.sealedAuk ?? null,
    ],
  );
  return rows[0] === undefined ? null : toRow(rows[0]);
}

/**
 * Ends the user's open pairings (a new one was started, the account key set was reset) as
 * `canceled`, forgetting their tags and sealed AUK; `deviceId` limits it to the pairings that
 * device takes part in (it was revoked). Returns how many.
 */
export async function cancelOpenPairings(
  q: Queryable,
  userId: string,
  options: { deviceId?: string } = {},
): Promise<number> {
  const { rowCount } = await q.query(
    `UPDATE pairing_sessions
        SET state = 'canceled', responder_tag = NULL, initiator_tag = NULL, sealed_auk = NULL
      WHERE user_id = $1 AND state IN ('waiting', 'joined', 'confirmed')
        AND ($2::text IS NULL OR initiator_device_id = $2 OR responder_device_id = $2)`,
    [userId, options.deviceId ?? null],
  );
  return rowCount;
}

/** A pairing {@link expireOverduePairings} expired, and the state it was in. */
export interface ExpiredPairing {
  readonly id: string;
  readonly userId: string;
  readonly fromState: PairingState;
}

/**
 * Marks every open pairing past its expiry at `now` as `expired`, forgetting its tags and sealed
 * AUK; `id` limits it to one pairing. Returns what it expired, with the state each was in, for
 * the audit log: a pairing that expires `joined` is most likely a wrong guess whose failure
 * report never came. Run by the periodic sweep and on access.
 */
export async function expireOverduePairings(
  q: Queryable,
  now: Date,
  options: { id?: string } = {},
): Promise<ExpiredPairing[]> {
  const { rows } = await q.query<{ id: string; user_id: string; from_state: PairingState }>(
    `WITH overdue AS (
       SELECT id, user_id, state FROM pairing_sessions
        WHERE state IN ('waiting', 'joined', 'confirmed') AND expires_at <= $1
          AND ($2::text IS NULL OR id = $2)
        ORDER BY id
        FOR UPDATE
     )
     UPDATE pairing_sessions AS p
        SET state = 'expired', responder_tag = NULL, initiator_tag = NULL, sealed_auk = NULL
       FROM overdue
      WHERE p.id = overdue.id
     RETURNING p.id, overdue.user_id, overdue.state AS from_state`,
    [now, options.id ?? null],
  );
  return rows.map((row) => ({ id: row.id, userId: row.user_id, fromState: row.from_state }));
}
