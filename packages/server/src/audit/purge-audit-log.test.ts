import assert from "node:assert/strict";
import { before, it } from "node:test";
import { leafHash, openNote, parseCheckpoint, verifyConsistency, verifyInclusion } from "@countersign/protocol";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { decodeAuditEntry } from "./audit-entry.ts";
import { buildProofFile } from "./audit-proof-file.ts";
import { proveConsistency, proveInclusion } from "./audit-proofs.ts";
import { listCheckpoints } from "./checkpoint-store.ts";
import { nodeSha256 } from "./node-sha256.ts";
import { purgeAuditLog } from "./purge-audit-log.ts";
import {
  type AuditFixture,
  appendSamples,
  checkpointNow,
  createAuditFixture,
  tamper,
  verifyWith,
} from "./test-support/audit-fixtures.ts";

const HOUR = 3_600_000;

describeEachDatabase("countersign audit purge", (ctx) => {
  const t0 = Date.UTC(2026, 0, 1);
  const clock = createManualClock(t0);
  let fixture: AuditFixture;
  const purge = (before: number, dryRun = false) =>
    purgeAuditLog(ctx.db, {
      before: new Date(before),
      audit: fixture.audit,
      signer: fixture.signer,
      policy: { everyEntries: 1_000, everySeconds: 60 },
      clock,
      dryRun,
    });

  async function seqs(): Promise<number[]> {
    return (await ctx.db.query<{ seq: number }>("SELECT seq FROM audit_log ORDER BY seq")).rows.map((r) => r.seq);
  }

  async function signedRoot(size: number): Promise<Uint8Array> {
    const checkpoint = (await listCheckpoints(ctx.db)).find((c) => c.size === size);
    assert.ok(checkpoint, `a checkpoint for ${size}`);
    const opened = await openNote(checkpoint.note, [fixture.signer.verifier]);
    assert.ok(opened.ok);
    const parsed = parseCheckpoint(opened.text);
    assert.ok(parsed.ok);
    return parsed.checkpoint.rootHash;
  }

  before(async () => {
    fixture = await createAuditFixture({ clock });
    // Entry i happens at t0 + i hours.
    for (let i = 0; i < 20; i++) {
      clock.set(t0 + i * HOUR);
      await appendSamples(ctx.db, fixture.audit, 1, i);
      if (i === 9) await checkpointNow(ctx.db, fixture, clock);
    }
    clock.set(t0 + 100 * HOUR);
  });

  it("removes nothing when no signed entry is old enough", async () => {
    assert.deepEqual(await purge(t0 - HOUR), { removed: 0, from: 0, keptFrom: 0, eventSeq: null });
    assert.equal((await seqs()).length, 20);
  });

  it("reports in a dry run what it would remove, and removes nothing", async () => {
    const outcome = await purge(t0 + 12 * HOUR, true);
    assert.deepEqual(outcome, { removed: 12, from: 0, keptFrom: 12, eventSeq: null });
    assert.equal((await seqs()).length, 20);
  });

  it("removes the prefix before the date, records an anchor and the purge itself, and still verifies", async () => {
    const outcome = await purge(t0 + 12 * HOUR);
    assert.deepEqual(outcome, { removed: 12, from: 0, keptFrom: 12, eventSeq: 20 });
    assert.deepEqual(await seqs(), [12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const { rows } = await ctx.db.query<{ entry: Uint8Array }>("SELECT entry FROM audit_log WHERE seq = 20");
    const event = decodeAuditEntry(rows[0]?.entry as Uint8Array);
    assert.equal(event.type, "audit.purged");
    assert.deepEqual(event.details, {
      before: new Date(t0 + 12 * HOUR).toISOString(),
      first_removed_seq: 0,
      first_kept_seq: 12,
      removed: 12,
    });
    assert.deepEqual(event.actor, { type: "operator", id: null });

    const report = await verifyWith(ctx.db, fixture);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.startSeq, 12);
    assert.equal(report.anchor?.seq, 12);
    assert.equal(report.entriesVerified, 9);
    // The purge signed everything first: checkpoints for 10 and 20 entries, both still provable.
    assert.deepEqual(
      (await listCheckpoints(ctx.db)).map((c) => c.size),
      [10, 20],
    );
  });

  it("keeps old checkpoints and proofs valid: the Merkle nodes stay", async () => {
    const old = await signedRoot(10);
    const latest = await signedRoot(20);
    const consistency = await proveConsistency(ctx.db, 10, 20);
    assert.ok(verifyConsistency(10, 20, consistency.proof, old, latest, nodeSha256));
    // A purged entry's leaf is still proven (its data is gone, its hash with it).
    const purged = await proveInclusion(ctx.db, 3, 10);
    assert.equal(purged.entryHash, null);
    // A kept entry is proven from its hash.
    const kept = await proveInclusion(ctx.db, 15, 20);
    assert.ok(kept.entryHash);
    assert.ok(verifyInclusion(leafHash(kept.entryHash, nodeSha256), 15, 20, kept.proof, latest, nodeSha256));
    await assert.rejects(buildProofFile(ctx.db, 3, 10), /entry 3 was purged/);
  });

  it("cuts at the first entry at or after the date, keeping older-stamped entries behind it", async () => {
    clock.set(t0 + 30 * HOUR);
    await appendSamples(ctx.db, fixture.audit, 1, 21); // seq 21 at 30 h
    clock.set(t0 + HOUR);
    await appendSamples(ctx.db, fixture.audit, 1, 22); // seq 22 at 1 h: a writer with a late clock
    clock.set(t0 + 31 * HOUR);
    await appendSamples(ctx.db, fixture.audit, 1, 23); // seq 23 at 31 h
    clock.set(t0 + 100 * HOUR);
    const outcome = await purge(t0 + 30 * HOUR);
    // Entry 20, the first purge's own event, happened at 100 h: the first entry at or after 30 h.
    assert.deepEqual(outcome, { removed: 8, from: 12, keptFrom: 20, eventSeq: 24 });
    assert.deepEqual(await seqs(), [20, 21, 22, 23, 24], "entry 22 is older than the date but follows entry 20");
    const report = await verifyWith(ctx.db, fixture);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.anchor?.seq, 20);
  });

  it("reports an anchor that does not match the signed tree", async () => {
    const { rows } = await ctx.db.query<{ prev_hash: Uint8Array }>(
      "SELECT prev_hash FROM audit_anchors WHERE seq = 20",
    );
    const original = rows[0]?.prev_hash as Uint8Array;
    const edited = new Uint8Array(original);
    edited[5] = (edited[5] as number) ^ 1;
    await tamper(ctx.db, "UPDATE audit_anchors SET prev_hash = $1 WHERE seq = 20", [edited]);
    const report = await verifyWith(ctx.db, fixture);
    await tamper(ctx.db, "UPDATE audit_anchors SET prev_hash = $1 WHERE seq = 20", [original]);
    assert.equal(report.firstBadSeq, 20);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.seq]),
      [
        ["anchor", 20],
        ["hash", 20],
      ],
    );
    assert.equal((await verifyWith(ctx.db, fixture)).ok, true);
  });

  it("reports removed entries that no anchor explains", async () => {
    await tamper(ctx.db, "DELETE FROM audit_anchors WHERE seq = 20");
    const report = await verifyWith(ctx.db, fixture);
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems[0], {
      kind: "gap",
      seq: 12,
      message: "entries 12 … 19 are missing and no purge anchor records their removal",
    });
  });
});
