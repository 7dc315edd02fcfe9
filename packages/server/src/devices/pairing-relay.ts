import { CountersignError, randomBytes, toBase64Url } from "@countersign/protocol";
import type { FastifyRequest } from "fastify";
import type { Static } from "typebox";
import type { Database, Queryable } from "../db/database.ts";
import type { Session } from "../sessions/session.ts";
import { findActiveAccountKey } from "./account-key-store.ts";
import { auditDeviceEvent } from "./device-audit.ts";
import type { DeviceDeps } from "./device-deps.ts";
import type { PairingView } from "./device-schemas.ts";
import { requireSessionDevice } from "./device-session.ts";
import type { DeviceRow } from "./device-store.ts";
import {
  cancelOpenPairings,
  changePairing,
  type ExpiredPairing,
  expireOverduePairings,
  findOpenPairing,
  findPairing,
  insertPairing,
  OPEN_PAIRING_STATES,
  type PairingRow,
  type PairingState,
  pairingsCreatedSince,
} from "./pairing-store.ts";

/** A pairing lives 5 minutes (issue 9 part 3). */
export const PAIRING_TTL_MS = 5 * 60_000;
/** At most this many pairings are started per account per rolling hour (issue 9 part 3). */
export const MAX_PAIRINGS_PER_HOUR = 5;
const HOUR_MS = 60 * 60_000;

/** The two roles of CPace's initiator-responder setting. */
type Role = "initiator" | "responder";

/** The full state of a pairing, as its two devices read it. */
export function pairingView(row: PairingRow): Static<typeof PairingView> {
  const b64u = (bytes: Uint8Array | null) => (bytes === null ? null : toBase64Url(bytes));
  return {
    id: row.id,
    state: row.state,
    sid: toBase64Url(row.sid),
    initiator_device_id: row.initiatorDeviceId,
    responder_device_id: row.responderDeviceId,
    initiator_message: toBase64Url(row.initiatorMessage),
    responder_message: b64u(row.responderMessage),
    responder_tag: b64u(row.responderTag),
    initiator_tag: b64u(row.initiatorTag),
    sealed_auk: row.sealedAuk,
    expires_at: row.expiresAt.toISOString(),
  };
}

/**
 * The pairing relay (issue 9 part 3, DESIGN §4.11). Two devices of one account run CPace through
 * it; it sees only CPace's messages and tags and the AUK sealed under a key derived from CPace's
 * session key, and enforces what makes an 8-character code safe:
 *
 * - one guess: a pairing accepts exactly one join, and a failed confirmation ends it;
 * - at most {@link MAX_PAIRINGS_PER_HOUR} started per account per rolling hour;
 * - {@link PAIRING_TTL_MS} to live, on the injected clock.
 *
 *   waiting ─join→ joined ─confirm→ confirmed ─complete→ completed
 *   waiting | joined | confirmed ─fail→ failed | canceled; past expires_at → expired
 *
 * Every change is one transaction holding the pairing's row lock, with its audit event.
 */
export function createPairingRelay(deps: DeviceDeps) {
  const { db, clock, audit, devices } = deps;
  const now = () => new Date(clock.now());

  /**
   * Runs `fn` on the user's pairing under its row lock. A pairing past its expiry is marked
   * `expired` and that is committed before `pairing_expired` is thrown: the change must outlive
   * the refusal.
   */
  const onPairing = async <T>(
    session: Session,
    pairingId: string,
    fn: (tx: Queryable, row: PairingRow, device: DeviceRow) => Promise<T>,
  ): Promise<T> => {
    const outcome = await db.transaction(async (tx) => {
      const device = await requireSessionDevice(tx, devices, session);
      const row = await findPairing(tx, session.userId, pairingId, { lock: true });
      if (row === null) throw new CountersignError("pairing_not_found");
      if (row.state === "expired") return { expired: true as const };
      if (OPEN_PAIRING_STATES.includes(row.state) && now() >= row.expiresAt) {
        await auditExpired(tx, await expireOverduePairings(tx, now(), { id: row.id }));
        return { expired: true as const };
      }
      return { expired: false as const, value: await fn(tx, row, device) };
    });
    if (outcome.expired) throw new CountersignError("pairing_expired");
    return outcome.value;
  };

  // An expiry is the system's doing, not a request's: no client facts, `from_state` says how far
  // the pairing got (a `joined` one never had its confirmation reported, likely a wrong code).
  const auditExpired = async (tx: Queryable, expired: readonly ExpiredPairing[]) => {
    if (expired.length === 0) return;
    await audit.appendAll(
      tx,
      expired.map((pairing) => ({
        type: "pairing.expired",
        actor: { type: "system" as const },
        subject: { type: "pairing", id: pairing.id },
        userId: pairing.userId,
        details: { from_state: pairing.fromState },
      })),
    );
  };

  const roleOf = (row: PairingRow, device: DeviceRow): Role | null =>
    row.initiatorDeviceId === device.id ? "initiator" : row.responderDeviceId === device.id ? "responder" : null;

  const requireRole = (row: PairingRow, device: DeviceRow, ...roles: Role[]): Role => {
    const role = roleOf(row, device);
    if (role === null || !roles.includes(role)) throw new CountersignError("pairing_role_mismatch");
    return role;
  };

  /** Moves the pairing on from `from`, or refuses with `pairing_closed` when it is elsewhere. */
  const move = async (
    tx: Queryable,
    row: PairingRow,
    from: readonly PairingState[],
    change: Parameters<typeof changePairing>[3],
  ) => {
    if (!from.includes(row.state)) throw new CountersignError("pairing_closed");
    const moved = await changePairing(tx, row.id, row.state, change);
    // Unreachable under the row lock; kept so that a lost race can never pass for a success.
    if (moved === null) throw new CountersignError("pairing_closed");
    return moved;
  };

  const audited = (
    tx: Queryable,
    request: FastifyRequest,
    session: Session,
    type: "pairing.started" | "pairing.joined" | "pairing.confirmed" | "pairing.failed" | "pairing.completed",
    row: PairingRow,
    details: Record<string, string | number | null> = {},
  ) =>
    auditDeviceEvent(audit, tx, request, {
      type,
      userId: session.userId,
      subject: { type: "pairing", id: row.id },
      details: {
        initiator_device_id: row.initiatorDeviceId,
        responder_device_id: row.responderDeviceId,
        state: row.state,
        ...details,
      },
    });

  return Object.freeze({
    /** An enrolled device (one holding a bundle for the active key set) starts a pairing with MSGa. */
    async start(request: FastifyRequest, session: Session, sid: Uint8Array, message: Uint8Array): Promise<PairingRow> {
      return db.transaction(async (tx) => {
        // The account's row lock makes the hourly count and the insert one step, so concurrent
        // starts cannot together pass the limit.
        const { rowCount } = await tx.query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", [session.userId]);
        if (rowCount === 0) throw new CountersignError("unauthenticated");
        const device = await requireSessionDevice(tx, devices, session);
        const active = await findActiveAccountKey(tx, session.userId);
        if (active === null || device.bundle === null || device.bundleAccountKeyId !== active.id) {
          throw new CountersignError("bundle_not_available");
        }
        const at = now();
        const recent = await pairingsCreatedSince(tx, session.userId, new Date(at.getTime() - HOUR_MS));
        if (recent.length >= MAX_PAIRINGS_PER_HOUR) {
          // The window frees a place when its oldest start is an hour old.
          const oldest = recent[recent.length - MAX_PAIRINGS_PER_HOUR] as Date;
          throw new CountersignError("pairing_rate_limited", {
            retryAfter: Math.max(1, Math.ceil((oldest.getTime() + HOUR_MS - at.getTime()) / 1000)),
          });
        }
        const canceled = await cancelOpenPairings(tx, session.userId);
        const row = await insertPairing(tx, {
          id: `pair_${toBase64Url(randomBytes(16))}`,
          userId: session.userId,
          sid,
          initiatorDeviceId: device.id,
          initiatorMessage: message,
          createdAt: at,
          expiresAt: new Date(at.getTime() + PAIRING_TTL_MS),
        });
        await audited(tx, request, session, "pairing.started", row, { pairings_canceled: canceled });
        return row;
      });
    },

    /** The account's newest pairing waiting for a device to join, or null. */
    open(q: Queryable, session: Session): Promise<PairingRow | null> {
      return findOpenPairing(q, session.userId, now());
    },

    /** The new device joins with MSGb and its tag Tb. The one guess: only from `waiting`. */
    join(request: FastifyRequest, session: Session, pairingId: string, message: Uint8Array, tag: Uint8Array) {
      return onPairing(session, pairingId, async (tx, row, device) => {
        if (row.initiatorDeviceId === device.id) throw new CountersignError("pairing_role_mismatch");
        const joined = await move(tx, row, ["waiting"], {
          state: "joined",
          responderDeviceId: device.id,
          responderMessage: message,
          responderTag: tag,
        });
        await audited(tx, request, session, "pairing.joined", joined);
        return joined;
      });
    },

    /** Either device reads the pairing (polling). */
    read(session: Session, pairingId: string) {
      return onPairing(session, pairingId, async (_tx, row, device) => {
        requireRole(row, device, "initiator", "responder");
        return row;
      });
    },

    /** The initiator verified Tb: it sends its tag Ta and the AUK sealed under the CPace-derived key. */
    confirm(request: FastifyRequest, session: Session, pairingId: string, tag: Uint8Array, sealedAuk: string) {
      return onPairing(session, pairingId, async (tx, row, device) => {
        requireRole(row, device, "initiator");
        const confirmed = await move(tx, row, ["joined"], { state: "confirmed", initiatorTag: tag, sealedAuk });
        await audited(tx, request, session, "pairing.confirmed", confirmed);
        return confirmed;
      });
    },

    /**
     * Either device ends the pairing: a tag that did not verify (the wrong code, or someone else
     * joined) or a cancel. It is burned either way, and audited with the reason.
     */
    fail(request: FastifyRequest, session: Session, pairingId: string, reason: "confirmation_failed" | "canceled") {
      return onPairing(session, pairingId, async (tx, row, device) => {
        // While it waits, the device that would join may end it too: a responder whose CPace
        // could not even start (a malformed MSGa) burns the pairing instead of leaving it open.
        const role =
          row.state === "waiting"
            ? (roleOf(row, device) ?? "responder")
            : requireRole(row, device, "initiator", "responder");
        const failed = await move(tx, row, OPEN_PAIRING_STATES, {
          state: reason === "canceled" ? "canceled" : "failed",
          clearSecrets: true,
        });
        await audited(tx, request, session, "pairing.failed", failed, { reason, by: role, from_state: row.state });
        return failed;
      });
    },

    /** The new device stored its own bundle for the active key set: the pairing is done. */
    complete(request: FastifyRequest, session: Session, pairingId: string) {
      return onPairing(session, pairingId, async (tx, row, device) => {
        requireRole(row, device, "responder");
        if (row.state !== "confirmed") throw new CountersignError("pairing_closed");
        const active = await findActiveAccountKey(tx, session.userId);
        if (active === null || device.bundle === null || device.bundleAccountKeyId !== active.id) {
          throw new CountersignError("bundle_not_available");
        }
        const completed = await move(tx, row, ["confirmed"], { state: "completed", clearSecrets: true });
        await audited(tx, request, session, "pairing.completed", completed);
        return completed;
      });
    },

    /** Expires every overdue open pairing (the periodic sweep), each with its audit event. */
    sweep(q: Database): Promise<number> {
      return q.transaction(async (tx) => {
        const expired = await expireOverduePairings(tx, now());
        await auditExpired(tx, expired);
        return expired.length;
      });
    },
  });
}

/** The relay {@link createPairingRelay} builds. */
export type PairingRelay = ReturnType<typeof createPairingRelay>;
