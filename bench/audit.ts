/**
 * The audit log's three speed figures (issue 3, DESIGN §4.8 and §4.12), on PostgreSQL:
 *
 *   1. appends per second with 32 concurrent writers, each append in its own transaction
 *      (target ≥ 3,000/s), and the same writers appending 8 events per transaction;
 *   2. `audit verify` throughput over 1,000,000 entries (target ≥ 300,000 entries/s);
 *   3. the time to produce an inclusion proof at 1,000,000 entries (target ≤ 5 ms).
 *
 * Run: `node bench/audit.ts` (DATABASE_URL names the server; without it, the local one over its
 * Unix socket, or 127.0.0.1:5432 — bench/lib/bench-database.ts; the user needs CREATEDB). It creates its own database
 * and drops it at the end. Not a test: it prints figures and always exits 0 unless it fails.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { toBase64Url } from "@countersign/protocol";
import { type AuditEntryV1, encodeAuditEntry } from "../packages/server/src/audit/audit-entry.ts";
import type { AuditEvent } from "../packages/server/src/audit/audit-event.ts";
import { type AuditLog, createAuditLog } from "../packages/server/src/audit/audit-log.ts";
import { createAuditLogSigner } from "../packages/server/src/audit/audit-log-signer.ts";
import { proveInclusion } from "../packages/server/src/audit/audit-proofs.ts";
import { chainHash } from "../packages/server/src/audit/chain-hash.ts";
import { createCheckpoint } from "../packages/server/src/audit/create-checkpoint.ts";
import { verifyAuditLog } from "../packages/server/src/audit/verify-audit-log.ts";
import { loadConfig } from "../packages/server/src/config/load-config.ts";
import { createKeyRingFromConfig } from "../packages/server/src/crypto/create-key-ring-from-config.ts";
import { createUserDataKeys } from "../packages/server/src/crypto/user-data-keys.ts";
import type { Database } from "../packages/server/src/db/database.ts";
import { migrate } from "../packages/server/src/db/migrate.ts";
import { openPgDatabase } from "../packages/server/src/db/pg-database.ts";
import {
  admin,
  describeBenchServer,
  formatCount as number,
  BENCH_SERVER_URL as SERVER_URL,
  withDatabase,
} from "./lib/bench-database.ts";

const WRITERS = 32;
const SINGLE_PER_WRITER = 250;
const BATCHES_PER_WRITER = 40;
const BATCH = 8;
const TOTAL = 1_000_000;
const BULK_CHUNK = 5_000;
const PROOFS = 2_000;

const verdict = (ok: boolean) => (ok ? "✓ meets the target" : "✗ below the target");

/** An approval decision by one of 500 users; the events of one transaction share their user. */
function event(n: number, user = `user-${n % 500}`): AuditEvent {
  return {
    type: "approval.decided",
    actor: { type: "user", id: user },
    subject: { type: "approval", id: `apr-${n}` },
    userId: user,
    requestId: randomUUID(),
    details: { decision: n % 2 === 0 ? "approved" : "rejected", auth_mode: "signed" },
    context: { ip: `192.0.2.${n % 250}`, user_agent: "Mozilla/5.0 (bench)" },
  };
}

/** Appends with `WRITERS` concurrent writers on as many connections; returns appends per second. */
async function appendRate(
  db: Database,
  audit: AuditLog,
  perTransaction: number,
  transactions: number,
): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      for (let i = 0; i < transactions; i++) {
        const first = (writer * transactions + i) * perTransaction;
        const user = `user-${first % 500}`;
        const events = Array.from({ length: perTransaction }, (_, k) => event(first + k, user));
        await db.transaction(async (tx) => {
          if (perTransaction === 1) await audit.append(tx, events[0] as AuditEvent);
          else await audit.appendAll(tx, events);
        });
      }
    }),
  );
  return (WRITERS * transactions * perTransaction) / ((performance.now() - started) / 1000);
}

/**
 * The bulk path for the million entries: canonical entries with a realistic context ciphertext,
 * chained in JavaScript exactly as the trigger would, inserted 5,000 rows per statement with the
 * (superuser-only) triggers off and the query columns read by the trigger's own function, two
 * statements in flight. The tree is then built and signed by the real checkpointer, which
 * re-verifies every entry first.
 */
async function bulkAppend(db: Database, total: number): Promise<void> {
  const { rows } = await db.query<{ next_seq: number; last_hash: Uint8Array }>(
    "SELECT next_seq, last_hash FROM audit_chain_head",
  );
  let seq = rows[0]?.next_seq ?? 0;
  let prev = rows[0]?.last_hash as Uint8Array;
  const template: AuditEntryV1 = {
    v: 1,
    id: randomUUID(),
    time: new Date().toISOString(),
    type: "approval.decided",
    actor: { type: "user", id: "user-1" },
    subject: { type: "approval", id: "apr-1" },
    user: "user-1",
    request: randomUUID(),
    details: { decision: "approved", auth_mode: "signed" },
    context: `v1.bench-key.${toBase64Url(randomBytes(80))}`,
  };
  const inFlight = new Set<Promise<void>>();
  while (seq < total) {
    const seqs: number[] = [];
    const entries: Uint8Array[] = [];
    const hashes: Uint8Array[] = [];
    for (const end = Math.min(total, seq + BULK_CHUNK); seq < end; seq++) {
      const entry = encodeAuditEntry({
        ...template,
        id: randomUUID(),
        actor: { type: "user", id: `user-${seq % 500}` },
        subject: { type: "approval", id: `apr-${seq}` },
        user: `user-${seq % 500}`,
      });
      prev = chainHash(prev, seq, entry);
      seqs.push(seq);
      entries.push(entry);
      hashes.push(prev);
    }
    const insert = db
      .transaction(async (tx) => {
        await tx.query("SET LOCAL session_replication_role = replica");
        // With the trigger off, the query columns are filled here, by the trigger's own function.
        await tx.query(
          `INSERT INTO audit_log (seq, entry, hash, id, occurred_at, event_type, user_id, subject_type, subject_id)
           SELECT r.seq, r.entry, r.hash, (r.c).id, (r.c).occurred_at, (r.c).event_type, (r.c).user_id,
                  (r.c).subject_type, (r.c).subject_id
             FROM (SELECT seq, entry, hash, audit_query_columns_of(entry) AS c
                     FROM unnest($1::int8[], $2::bytea[], $3::bytea[]) AS u (seq, entry, hash)) AS r`,
          [seqs, entries, hashes],
        );
      })
      .finally(() => inFlight.delete(insert));
    inFlight.add(insert);
    if (inFlight.size >= 2) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await db.transaction(async (tx) => {
    await tx.query("SET LOCAL session_replication_role = replica");
    await tx.query("UPDATE audit_chain_head SET next_seq = $1, last_hash = $2", [total, prev]);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function main(): Promise<void> {
  const name = `countersign_bench_${randomBytes(6).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "cs-bench-"));
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(SERVER_URL, name);
  const db = await openPgDatabase({ databaseUrl: url, poolSize: WRITERS });
  try {
    await migrate(db);
    const version = (await db.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version;
    const config = loadConfig(
      {
        COUNTERSIGN_ENV: "test",
        COUNTERSIGN_DATA_DIR: dataDir,
        COUNTERSIGN_PUBLIC_URL: "https://bench.countersign.test",
      },
      { cwd: dataDir },
    );
    const audit = createAuditLog({ dataKeys: createUserDataKeys(createKeyRingFromConfig(config)) });
    const signer = await createAuditLogSigner(config);
    const policy = { everyEntries: config.audit.checkpointEntries, everySeconds: config.audit.checkpointSeconds };
    console.log(
      `Countersign audit log benchmark — PostgreSQL ${version} (${describeBenchServer()}), ${cpus().length} CPUs, Node ${process.version}`,
    );
    console.log(
      `(events carry an encrypted context; each writer has its own connection; a transaction's events share a user)\n`,
    );

    // For scale: the same 32 writers committing a bare one-row insert each, which PostgreSQL
    // group-commits since nothing serializes them.
    await db.exec("CREATE TABLE bench_plain (id bigserial PRIMARY KEY, payload bytea)");
    const payload = randomBytes(400);
    let started = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = 0; i < SINGLE_PER_WRITER; i++) {
          await db.transaction((tx) => tx.query("INSERT INTO bench_plain (payload) VALUES ($1)", [payload]));
        }
      }),
    );
    const plain = (WRITERS * SINGLE_PER_WRITER) / ((performance.now() - started) / 1000);

    await appendRate(db, audit, 1, 10); // warm-up: connections, data keys, plans
    const single = await appendRate(db, audit, 1, SINGLE_PER_WRITER);
    console.log(
      `1. appends/s, ${WRITERS} writers, 1 event per transaction:      ${number(single).padStart(9)}/s   target ≥ 3,000/s  ${verdict(single >= 3_000)}`,
    );
    const batched = await appendRate(db, audit, BATCH, BATCHES_PER_WRITER);
    console.log(
      `   appends/s, ${WRITERS} writers, ${BATCH} events per transaction:     ${number(batched).padStart(9)}/s   target ≥ 3,000/s  ${verdict(batched >= 3_000)}`,
    );
    console.log(
      `   (for scale: the same writers committing a bare one-row INSERT each: ${number(plain)}/s; appends serialize through the commit's WAL flush)`,
    );

    started = performance.now();
    await bulkAppend(db, TOTAL);
    const loadSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    for (;;) {
      const outcome = await createCheckpoint(db, { signer, policy, force: true, wait: true, maxEntries: TOTAL });
      if (outcome.status !== "created") break;
    }
    const treeSeconds = (performance.now() - started) / 1000;
    console.log(
      `   (setup: bulk-loaded ${number(TOTAL)} entries in ${loadSeconds.toFixed(1)} s; the checkpointer verified and signed them in ${treeSeconds.toFixed(1)} s)`,
    );

    // Twice: the first run may still read pages from disk into the cache.
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const report = await verifyAuditLog(db, { verifiers: [signer.verifier], origin: signer.origin });
      if (!report.ok) throw new Error(`verification failed: ${JSON.stringify(report.problems.slice(0, 3))}`);
      runs.push(report);
    }
    const report = runs[1] as (typeof runs)[number];
    const rates = runs.map((run) => run.entriesVerified / (run.durationMs / 1000));
    const rate = rates[1] as number;
    console.log(
      `2. verification, ${number(report.entriesVerified)} entries:           ${number(rate).padStart(9)} entries/s (${(report.durationMs / 1000).toFixed(2)} s; first run ${number(rates[0] as number)}/s)   target ≥ 300,000/s  ${verdict(rate >= 300_000)}`,
    );

    const size = report.latestCheckpointSize as number;
    const times: number[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const index = Math.floor(Math.random() * size);
      const t = performance.now();
      const proof = await proveInclusion(db, index);
      times.push(performance.now() - t);
      if (proof.treeSize !== size || proof.entryHash === null) throw new Error("unexpected proof");
    }
    times.sort((a, b) => a - b);
    const p50 = percentile(times, 50);
    const p99 = percentile(times, 99);
    console.log(
      `3. inclusion proof at ${number(size)} entries:      median ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (${number(PROOFS)} random indexes)   target ≤ 5 ms  ${verdict(p99 <= 5)}`,
    );
  } finally {
    await db.close();
    await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
