import { randomUUID } from "node:crypto";
import { canonicalize, utf8 } from "@countersign/protocol";
import { type Clock, systemClock } from "../clock.ts";
import { encryptField } from "../crypto/field-cipher.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Queryable } from "../db/database.ts";
import { AUDIT_ENTRY_VERSION, type AuditEntryV1, encodeAuditEntry } from "./audit-entry.ts";
import { type AuditEvent, assertAuditEvent } from "./audit-event.ts";

/**
 * Sealed entries, with the query columns each one's row carries beside it: the appender knows
 * them, having written the entry, and the table's CHECK constraint holds them to it (migration
 * 015), parsing the entry once where six generated columns parsed it six times.
 */
interface Sealed {
  readonly ids: string[];
  readonly entries: Uint8Array[];
  readonly times: string[];
  readonly types: string[];
  readonly users: (string | null)[];
  readonly subjectTypes: (string | null)[];
  readonly subjectIds: (string | null)[];
}

/** The INSERT's parameters, in the order of its column list: entry, id, occurred_at, event_type, user_id, subject_type, subject_id. */
function columnsOf(sealed: Sealed): unknown[][] {
  return [sealed.entries, sealed.ids, sealed.times, sealed.types, sealed.users, sealed.subjectTypes, sealed.subjectIds];
}

/** The part of the data-key store the audit log needs (DESIGN §4.9). */
export type AuditDataKeys = Pick<UserDataKeys, "forWriting" | "loadKey">;

/** Where an event's context ciphertext lives, bound into its AAD with the event id. */
export const CONTEXT_TABLE = "audit_log";
export const CONTEXT_COLUMN = "context";

/** Largest `details`, canonical UTF-8 bytes: plaintext facts, not documents. */
export const MAX_DETAILS_BYTES = 8_192;
/** Largest `context`, canonical UTF-8 bytes before encryption. */
export const MAX_CONTEXT_BYTES = 32_768;

/** An appended event: its id (for references from other tables) and its place in the chain. */
export interface AppendedAuditEvent {
  readonly id: string;
  readonly seq: number;
}

/** What {@link createAuditLog} builds on. */
export interface AuditLogDeps {
  readonly dataKeys: AuditDataKeys;
  readonly clock?: Clock;
  /** Event ids; random UUIDs unless a test needs fixed ones. */
  readonly randomId?: () => string;
}

/** The one way events enter the audit log. */
export interface AuditLog {
  /**
   * Appends one event inside the caller's transaction, in one round trip: the event commits or
   * rolls back with the change it records.
   *
   * The statement takes the chain's lock (T-12) and PostgreSQL holds it until the transaction
   * ends, so every other append, in every server process, waits for this transaction to finish.
   * **Append last**, just before committing, and keep the transaction at READ COMMITTED (the
   * default): under REPEATABLE READ a concurrent append fails with a serialization error.
   */
  append(tx: Queryable, event: AuditEvent): Promise<AppendedAuditEvent>;
  /**
   * Appends several events, in order and contiguous in the chain, in one statement and one lock
   * acquisition: the batched form of {@link AuditLog.append}, with the same rules.
   */
  appendAll(tx: Queryable, events: readonly AuditEvent[]): Promise<AppendedAuditEvent[]>;
}

/**
 * Builds the audit log writer (DESIGN §4.8). Contexts are sealed with the user's data key
 * (`forWriting`, in the caller's transaction) under AAD naming `audit_log`, `context` and the
 * event id; the canonical entry holds the ciphertext, so erasing the key later leaves every hash
 * intact.
 *
 * @example
 * ```ts
 * const audit = createAuditLog({ dataKeys, clock });
 * await db.transaction(async (tx) => {
 *   await decide(tx, approval);
 *   await audit.append(tx, {
 *     type: "approval.decided",
 *     actor: { type: "user", id: userId },
 *     subject: { type: "approval", id: approval.id },
 *     userId,
 *     requestId: request.id,
 *     details: { decision: "approved", display_payload_hash: approval.dph },
 *     context: { ip: request.ip, user_agent: request.headers["user-agent"] ?? null },
 *   });
 * });
 * ```
 */
export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const clock = deps.clock ?? systemClock;
  const randomId = deps.randomId ?? randomUUID;

  async function seal(tx: Queryable, events: readonly AuditEvent[]): Promise<Sealed> {
    const keys = new Map<string, { kid: string; key: Uint8Array }>();
    const sealed: Sealed = { ids: [], entries: [], times: [], types: [], users: [], subjectTypes: [], subjectIds: [] };
    for (const event of events) {
      assertAuditEvent(event);
      const id = randomId();
      const details = canonicalize(event.details ?? {});
      if (utf8(details).length > MAX_DETAILS_BYTES) {
        throw new RangeError(`event.details must not exceed ${MAX_DETAILS_BYTES} bytes as canonical JSON`);
      }
      let context: string | null = null;
      if (event.context !== undefined && event.context !== null) {
        const plaintext = utf8(canonicalize(event.context));
        if (plaintext.length > MAX_CONTEXT_BYTES) {
          throw new RangeError(`event.context must not exceed ${MAX_CONTEXT_BYTES} bytes as canonical JSON`);
        }
        // assertAuditEvent made sure a context comes with its user.
        const userId = event.userId as string;
        let key = keys.get(userId);
        if (key === undefined) {
          key = await deps.dataKeys.forWriting(tx, userId);
          keys.set(userId, key);
        }
        context = encryptField(key, { table: CONTEXT_TABLE, column: CONTEXT_COLUMN, rowId: id }, plaintext);
      }
      const entry: AuditEntryV1 = {
        v: AUDIT_ENTRY_VERSION,
        id,
        time: new Date(clock.now()).toISOString(),
        type: event.type,
        actor: { type: event.actor.type, id: event.actor.id ?? null },
        subject: event.subject ? { type: event.subject.type, id: event.subject.id } : null,
        user: event.userId ?? null,
        request: event.requestId ?? null,
        details: event.details ?? {},
        context,
      };
      sealed.ids.push(id);
      sealed.entries.push(encodeAuditEntry(entry));
      sealed.times.push(entry.time);
      sealed.types.push(entry.type);
      sealed.users.push(entry.user);
      sealed.subjectTypes.push(entry.subject?.type ?? null);
      sealed.subjectIds.push(entry.subject?.id ?? null);
    }
    return sealed;
  }

  return Object.freeze({
    async append(tx: Queryable, event: AuditEvent) {
      const sealed = await seal(tx, [event]);
      // The data key is in hand before this statement: the chain's lock is taken last.
      const { rows } = await tx.query<{ seq: number }>(
        `INSERT INTO audit_log (entry, id, occurred_at, event_type, user_id, subject_type, subject_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`,
        columnsOf(sealed).map((column) => column[0]),
      );
      return { id: sealed.ids[0] as string, seq: (rows[0] as { seq: number }).seq };
    },

    async appendAll(tx: Queryable, events: readonly AuditEvent[]) {
      if (!Array.isArray(events)) throw new TypeError("events must be an array");
      if (events.length === 0) return [];
      const sealed = await seal(tx, events);
      // ORDER BY the position makes the trigger chain the rows in the caller's order.
      const { rows } = await tx.query<{ seq: number; id: string }>(
        `INSERT INTO audit_log (entry, id, occurred_at, event_type, user_id, subject_type, subject_id)
         SELECT entry, id, occurred_at, event_type, user_id, subject_type, subject_id
           FROM unnest($1::bytea[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[])
                WITH ORDINALITY AS e (entry, id, occurred_at, event_type, user_id, subject_type, subject_id, position)
          ORDER BY position
         RETURNING seq, id`,
        columnsOf(sealed),
      );
      const seqById = new Map(rows.map((row) => [row.id, row.seq]));
      return sealed.ids.map((id) => ({ id, seq: seqById.get(id) as number }));
    },
  });
}
