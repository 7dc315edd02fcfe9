import { createTestConfig } from "../../../test-support/test-app.ts";
import type { Clock } from "../../clock.ts";
import type { Config } from "../../config/config.ts";
import { createKeyRingFromConfig } from "../../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys, type UserDataKeys } from "../../crypto/user-data-keys.ts";
import type { Database } from "../../db/database.ts";
import type { AuditEvent } from "../audit-event.ts";
import { type AuditLog, createAuditLog } from "../audit-log.ts";
import { type AuditLogSigner, createAuditLogSigner } from "../audit-log-signer.ts";
import { type CheckpointOutcome, createCheckpoint } from "../create-checkpoint.ts";
import { verifyAuditLog } from "../verify-audit-log.ts";

/** Everything an audit test needs, built from one test configuration. */
export interface AuditFixture {
  readonly config: Config;
  readonly dataKeys: UserDataKeys;
  readonly audit: AuditLog;
  readonly signer: AuditLogSigner;
}

/** Builds the audit log, data keys and signer over a fresh test configuration. */
export async function createAuditFixture(
  options: { clock?: Clock; env?: Record<string, string>; config?: Config } = {},
): Promise<AuditFixture> {
  const config = options.config ?? createTestConfig({ COUNTERSIGN_PUBLIC_URL: "https://audit.test", ...options.env });
  const dataKeys = createUserDataKeys(createKeyRingFromConfig(config));
  const audit = createAuditLog({ dataKeys, ...(options.clock ? { clock: options.clock } : {}) });
  return { config, dataKeys, audit, signer: await createAuditLogSigner(config) };
}

/** A plausible event; `n` varies its subject. */
export function sampleEvent(n: number, userId = `user-${n % 3}`): AuditEvent {
  return {
    type: "approval.decided",
    actor: { type: "user", id: userId },
    subject: { type: "approval", id: `apr-${n}` },
    userId,
    requestId: `req-${n}`,
    details: { decision: n % 2 === 0 ? "approved" : "rejected", n },
    context: { ip: `192.0.2.${n % 250}`, user_agent: "test" },
  };
}

/** Appends `count` sample events, each in its own transaction; returns their seqs. */
export async function appendSamples(db: Database, audit: AuditLog, count: number, offset = 0): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    seqs.push((await db.transaction((tx) => audit.append(tx, sampleEvent(offset + i)))).seq);
  }
  return seqs;
}

/** The sequence number of the event with this id, read back from the log. */
export async function seqOf(db: Database, id: string): Promise<number> {
  const { rows } = await db.query<{ seq: number }>("SELECT seq FROM audit_log WHERE id = $1", [id]);
  if (rows[0] === undefined) throw new Error(`event ${id} is not in the log`);
  return rows[0].seq;
}

/** Signs a checkpoint over everything appended so far. */
export function checkpointNow(db: Database, fixture: AuditFixture, clock?: Clock): Promise<CheckpointOutcome> {
  return createCheckpoint(db, {
    signer: fixture.signer,
    policy: { everyEntries: 1_000, everySeconds: 60 },
    force: true,
    wait: true,
    ...(clock ? { clock } : {}),
  });
}

/** Verifies the log with the fixture's key. */
export function verifyWith(db: Database, fixture: AuditFixture, batchSize?: number) {
  return verifyAuditLog(db, {
    verifiers: [fixture.signer.verifier],
    origin: fixture.signer.origin,
    ...(batchSize === undefined ? {} : { batchSize }),
  });
}

/**
 * Runs SQL as a superuser would to tamper with the log: in one transaction with every ordinary
 * trigger (the write-once and chain triggers) switched off by `session_replication_role`.
 */
export async function tamper(db: Database, sql: string, params: readonly unknown[] = []): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query("SET LOCAL session_replication_role = replica");
    return (await tx.query(sql, params)).rowCount;
  });
}

/**
 * Puts back rows a test deleted, as a superuser would (triggers off): seq, entry and hash as they
 * were, and the query columns read from the entry by the function the table's constraint checks
 * them with (migration 015).
 */
export async function putBack(
  db: Database,
  rows: readonly { seq: number; entry: Uint8Array; hash: Uint8Array }[],
): Promise<void> {
  await tamper(
    db,
    `INSERT INTO audit_log (seq, entry, hash, id, occurred_at, event_type, user_id, subject_type, subject_id)
     SELECT r.seq, r.entry, r.hash, (r.c).id, (r.c).occurred_at, (r.c).event_type, (r.c).user_id,
            (r.c).subject_type, (r.c).subject_id
       FROM (SELECT seq, entry, hash, audit_query_columns_of(entry) AS c
               FROM unnest($1::int8[], $2::bytea[], $3::bytea[]) AS u (seq, entry, hash)) AS r`,
    [rows.map((row) => row.seq), rows.map((row) => row.entry), rows.map((row) => row.hash)],
  );
}

/**
 * Replaces entry $2's bytes with $1 as a superuser who knows what they are doing would: the query
 * columns follow, so that the table's constraint (migration 015) lets it through and only the
 * hashes can give it away.
 */
export const REWRITE_ENTRY = `UPDATE audit_log SET entry = $1::bytea,
    (id, occurred_at, event_type, user_id, subject_type, subject_id) = (SELECT (audit_query_columns_of($1::bytea)).*)
  WHERE seq = $2`;

/**
 * Changes one byte of entry `seq` as a superuser would (triggers off), keeping it valid JSON so
 * that the database accepts it: a letter of the event type changes case. Returns a function that
 * puts the original back (through `on`, when `db` has been closed since).
 */
export async function editEntryByte(db: Database, seq: number): Promise<(on?: Database) => Promise<void>> {
  const { rows } = await db.query<{ entry: Uint8Array }>("SELECT entry FROM audit_log WHERE seq = $1", [seq]);
  const original = rows[0]?.entry;
  if (original === undefined) throw new Error(`no entry ${seq}`);
  const offset = Buffer.from(original).indexOf('"type":"') + 8;
  const edited = new Uint8Array(original);
  edited[offset] = (edited[offset] as number) ^ 0x20;
  await tamper(db, REWRITE_ENTRY, [edited, seq]);
  return async (on = db) => {
    await tamper(on, REWRITE_ENTRY, [original, seq]);
  };
}
