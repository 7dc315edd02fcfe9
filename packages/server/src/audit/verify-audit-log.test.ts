import assert from "node:assert/strict";
import { before, it } from "node:test";
import { parseVerifierKey, verifierKeyText } from "@countersign/protocol";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { formatAuditVerifyReport } from "./audit-verify-report.ts";
import { chainHash } from "./chain-hash.ts";
import {
  type AuditFixture,
  appendSamples,
  checkpointNow,
  createAuditFixture,
  editEntryByte,
  putBack,
  REWRITE_ENTRY,
  tamper,
  verifyWith,
} from "./test-support/audit-fixtures.ts";
import { verifyAuditLog } from "./verify-audit-log.ts";

interface Row {
  seq: number;
  entry: Uint8Array;
  hash: Uint8Array;
}

describeEachDatabase("countersign audit verify", (ctx) => {
  const clock = createManualClock();
  let fixture: AuditFixture;
  // Small batches, so that the streaming crosses batch boundaries.
  const verify = () => verifyWith(ctx.db, fixture, 7);

  async function rows(): Promise<Row[]> {
    return (await ctx.db.query<Row>("SELECT seq, entry, hash FROM audit_log ORDER BY seq")).rows;
  }

  async function assertClean(): Promise<void> {
    const report = await verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
  }

  before(async () => {
    fixture = await createAuditFixture({ clock });
    await appendSamples(ctx.db, fixture.audit, 10);
    await checkpointNow(ctx.db, fixture);
    await appendSamples(ctx.db, fixture.audit, 15, 10);
    await checkpointNow(ctx.db, fixture);
    await appendSamples(ctx.db, fixture.audit, 15, 25);
    await checkpointNow(ctx.db, fixture);
    // Five entries no checkpoint covers yet.
    await appendSamples(ctx.db, fixture.audit, 5, 40);
  });

  it("passes a log nobody touched", async () => {
    const report = await verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.entriesVerified, 45);
    assert.equal(report.startSeq, 0);
    assert.equal(report.lastSeq, 44);
    assert.equal(report.headNextSeq, 45);
    assert.equal(report.checkpoints, 3);
    assert.equal(report.latestCheckpointSize, 40);
    assert.equal(report.firstBadSeq, null);
    assert.match(formatAuditVerifyReport(report).join("\n"), /^OK: /m);
  });

  it("names the entry whose byte was edited", async () => {
    const restore = await editEntryByte(ctx.db, 17);
    const report = await verify();
    await restore();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadSeq, 17);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.seq]),
      [["hash", 17]],
    );
    const text = formatAuditVerifyReport(report).join("\n");
    assert.match(text, /FAILED: 1 problem\. First bad entry: seq 17\./);
    await assertClean();
  });

  it("catches one edited byte anywhere in an entry or its hash", async () => {
    const all = await rows();
    let detected = 0;
    for (const [seq, column, offset] of [
      [0, "hash", 0],
      [3, "hash", 31],
      [44, "hash", 12],
      [5, "entry", 0],
      [12, "entry", 40],
      [23, "entry", 120],
      [39, "entry", -1],
      [44, "entry", -2],
    ] as const) {
      const original = all[seq] as Row;
      const bytes = new Uint8Array(original[column]);
      const at = offset < 0 ? bytes.length + offset : offset;
      bytes[at] = (bytes[at] as number) ^ 0x01;
      try {
        await tamper(ctx.db, `UPDATE audit_log SET ${column} = $1 WHERE seq = $2`, [bytes, seq]);
      } catch {
        // The database itself refused: the edit broke the entry's UTF-8 or JSON, or changed what
        // a query column says (the columns' constraint parses it). Nothing changed, which is also
        // a catch.
        continue;
      }
      const report = await verify();
      await tamper(ctx.db, `UPDATE audit_log SET ${column} = $1 WHERE seq = $2`, [original[column], seq]);
      assert.equal(report.ok, false, `${column}[${at}] of entry ${seq}`);
      assert.equal(report.firstBadSeq, seq, `${column}[${at}] of entry ${seq}: ${JSON.stringify(report.problems)}`);
      detected += 1;
    }
    assert.ok(detected >= 5, `most edits reached the table (${detected})`);
    await assertClean();
  });

  it("names the entry whose sequence number was changed", async () => {
    await tamper(ctx.db, "UPDATE audit_log SET seq = 1000 WHERE seq = 17");
    const report = await verify();
    await tamper(ctx.db, "UPDATE audit_log SET seq = 17 WHERE seq = 1000");
    assert.equal(report.firstBadSeq, 17);
    assert.deepEqual(report.problems[0], { kind: "gap", seq: 17, message: "entries 17 … 17 are missing" });
    assert.ok(
      report.problems.some((p) => p.kind === "head"),
      "an entry past the head is reported",
    );
    await assertClean();
  });

  it("reports a deleted middle row as a gap", async () => {
    const row = (await rows())[20] as Row;
    await tamper(ctx.db, "DELETE FROM audit_log WHERE seq = 20");
    const report = await verify();
    await putBack(ctx.db, [row]);
    assert.equal(report.ok, false);
    assert.equal(report.firstBadSeq, 20);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.seq]),
      [["gap", 20]],
    );
    await assertClean();
  });

  it("reports entries deleted from the end, which the chain head still counts", async () => {
    const last = (await rows()).slice(42);
    await tamper(ctx.db, "DELETE FROM audit_log WHERE seq >= 42");
    const report = await verify();
    await putBack(ctx.db, last);
    assert.equal(report.firstBadSeq, 42);
    assert.match(report.problems[0]?.message ?? "", /entries 42 … 44 are missing at the end/);
    await assertClean();
  });

  it("reports a checkpoint with a wrong signature", async () => {
    const { rows: notes } = await ctx.db.query<{ note: string }>(
      "SELECT note FROM audit_checkpoints WHERE tree_size = 25",
    );
    const note = notes[0]?.note as string;
    // Change one character of the base64 signature.
    const at = note.length - 10;
    const forged = `${note.slice(0, at)}${note[at] === "A" ? "B" : "A"}${note.slice(at + 1)}`;
    await tamper(ctx.db, "UPDATE audit_checkpoints SET note = $1 WHERE tree_size = 25", [forged]);
    const report = await verify();
    await tamper(ctx.db, "UPDATE audit_checkpoints SET note = $1 WHERE tree_size = 25", [note]);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.checkpointSize]),
      [["checkpoint", 25]],
    );
    assert.match(report.problems[0]?.message ?? "", /not validly signed by the log key/);
    await assertClean();
  });

  it("refuses checkpoints signed by a key the auditor did not pin", async () => {
    const other = await createAuditFixture();
    const report = await verifyAuditLog(ctx.db, { verifiers: [other.signer.verifier], origin: other.signer.origin });
    assert.equal(report.ok, false);
    assert.equal(report.problems.filter((p) => p.kind === "checkpoint").length, 3);
    // The same key under another name (a different origin) does not pass either.
    const renamed = parseVerifierKey(verifierKeyText("elsewhere.test", fixture.signer.verifier.publicKey));
    const renamedReport = await verifyAuditLog(ctx.db, { verifiers: [renamed], origin: "elsewhere.test" });
    assert.equal(renamedReport.ok, false);
  });

  it("names the first rewritten entry when history was rewritten with every later hash recomputed", async () => {
    const original = await rows();
    const { rows: heads } = await ctx.db.query<{ last_hash: Uint8Array }>("SELECT last_hash FROM audit_chain_head");
    // Rewrite entry 30 and recompute the chain from there, head included: every hash links again.
    let prev = (original[29] as Row).hash;
    for (const row of original.slice(30)) {
      const entry = new Uint8Array(row.entry);
      if (row.seq === 30) entry[entry.length - 20] = (entry[entry.length - 20] as number) ^ 0x20;
      const hash = chainHash(prev, row.seq, entry);
      await tamper(ctx.db, REWRITE_ENTRY, [entry, row.seq]);
      await tamper(ctx.db, "UPDATE audit_log SET hash = $1 WHERE seq = $2", [hash, row.seq]);
      prev = hash;
    }
    await tamper(ctx.db, "UPDATE audit_chain_head SET last_hash = $1", [prev]);
    const report = await verify();
    for (const row of original.slice(30)) {
      await tamper(ctx.db, REWRITE_ENTRY, [row.entry, row.seq]);
      await tamper(ctx.db, "UPDATE audit_log SET hash = $1 WHERE seq = $2", [row.hash, row.seq]);
    }
    await tamper(ctx.db, "UPDATE audit_chain_head SET last_hash = $1", [heads[0]?.last_hash]);
    assert.equal(report.ok, false);
    assert.equal(report.firstBadSeq, 30);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.checkpointSize, p.seq]),
      [["checkpoint", 40, 30]],
    );
    await assertClean();
  });

  it("reports a stored Merkle node that no longer reproduces the signed roots", async () => {
    const { rows: nodes } = await ctx.db.query<{ hash: Uint8Array }>(
      "SELECT hash FROM audit_merkle_nodes WHERE level = 3 AND idx = 0",
    );
    const original = nodes[0]?.hash as Uint8Array;
    const edited = new Uint8Array(original);
    edited[0] = (edited[0] as number) ^ 0xff;
    await tamper(ctx.db, "UPDATE audit_merkle_nodes SET hash = $1 WHERE level = 3 AND idx = 0", [edited]);
    const report = await verify();
    await tamper(ctx.db, "UPDATE audit_merkle_nodes SET hash = $1 WHERE level = 3 AND idx = 0", [original]);
    assert.equal(report.ok, false);
    assert.ok(
      report.problems.length > 0 && report.problems.every((p) => p.kind === "consistency"),
      JSON.stringify(report.problems),
    );
    await assertClean();
  });
  it("reports a write-once trigger left disabled, even when every hash verifies", async () => {
    await ctx.db.exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_write_once");
    const report = await verify();
    await ctx.db.exec("ALTER TABLE audit_log ENABLE TRIGGER audit_log_write_once");
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.message]),
      [
        [
          "schema",
          "the trigger audit_log_write_once on audit_log is disabled: the log is not protected as it should be",
        ],
      ],
    );
    await assertClean();
  });

  it("reports the query columns' constraint dropped, or put back without validating the rows", async () => {
    const { rows } = await ctx.db.query<{ user_id: string }>("SELECT user_id FROM audit_log WHERE seq = 12");
    const definition = `CHECK (ROW(id, occurred_at, event_type, user_id, subject_type, subject_id)::audit_query_columns
      IS NOT DISTINCT FROM audit_query_columns_of(entry))`;
    await ctx.db.exec("ALTER TABLE audit_log DROP CONSTRAINT audit_log_query_columns");
    const dropped = await verify();
    // Meanwhile an event moves to someone else's history; the constraint comes back unvalidated.
    await tamper(ctx.db, "UPDATE audit_log SET user_id = 'someone-else' WHERE seq = 12");
    await ctx.db.exec(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_query_columns ${definition} NOT VALID`);
    const unvalidated = await verify();
    await assert.rejects(
      ctx.db.exec("ALTER TABLE audit_log VALIDATE CONSTRAINT audit_log_query_columns"),
      (error: { code?: string }) => error.code === "23514",
      "validating finds the changed row",
    );
    await tamper(ctx.db, "UPDATE audit_log SET user_id = $1 WHERE seq = 12", [rows[0]?.user_id]);
    await ctx.db.exec("ALTER TABLE audit_log VALIDATE CONSTRAINT audit_log_query_columns");
    for (const [report, state] of [
      [dropped, "missing"],
      [unvalidated, "not validated"],
    ] as const) {
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.problems.map((p) => [p.kind, p.message]),
        [
          [
            "schema",
            `the constraint audit_log_query_columns on audit_log is ${state}: what the query columns say cannot be trusted`,
          ],
        ],
      );
    }
    await assertClean();
  });

  // Last, because it changes the schema for good: a superuser drops the constraint on the query
  // columns, after which an entry can hold bytes that are not even UTF-8.
  it("survives an entry that is not UTF-8, naming it, and reports the constraint dropped", async () => {
    await ctx.db.exec("ALTER TABLE audit_log DROP CONSTRAINT audit_log_query_columns");
    const original = (await rows())[9] as Row;
    const broken = new Uint8Array(original.entry);
    broken[10] = 0xff;
    await tamper(ctx.db, "UPDATE audit_log SET entry = $1 WHERE seq = 9", [broken]);
    const report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadSeq, 9);
    assert.equal(report.entriesVerified, 45, "every entry was still checked");
    assert.deepEqual(
      report.problems.filter((p) => p.kind !== "schema").map((p) => [p.kind, p.seq]),
      [["hash", 9]],
    );
    assert.equal(report.problems.filter((p) => p.kind === "schema").length, 1);
  });
});
