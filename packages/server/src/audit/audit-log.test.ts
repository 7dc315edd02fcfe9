import assert from "node:assert/strict";
import { before, it } from "node:test";
import { toHex } from "@countersign/protocol";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import { decodeAuditEntry } from "./audit-entry.ts";
import { chainHash, GENESIS_HASH } from "./chain-hash.ts";
import { openAuditContext } from "./open-audit-context.ts";
import {
  type AuditFixture,
  createAuditFixture,
  sampleEvent,
  seqOf,
  verifyWith,
} from "./test-support/audit-fixtures.ts";

describeEachDatabase("audit.append", (ctx) => {
  const clock = createManualClock();
  let fixture: AuditFixture;

  before(async () => {
    fixture = await createAuditFixture({ clock });
  });

  async function row(seq: number) {
    const { rows } = await ctx.db.query<{
      entry: Uint8Array;
      hash: Uint8Array;
      event_type: string;
      user_id: string | null;
    }>("SELECT entry, hash, event_type, user_id FROM audit_log WHERE seq = $1", [seq]);
    assert.ok(rows[0], `entry ${seq} exists`);
    return rows[0];
  }

  it("appends in the caller's transaction, numbering from 0, with the chain hash the spec defines", async () => {
    const appended = await ctx.db.transaction((tx) => fixture.audit.append(tx, sampleEvent(0)));
    assert.equal(appended.seq, 0);
    assert.equal(await seqOf(ctx.db, appended.id), 0);
    const first = await row(0);
    assert.equal(toHex(first.hash), toHex(chainHash(GENESIS_HASH, 0, first.entry)));
    const entry = decodeAuditEntry(first.entry);
    assert.equal(entry.id, appended.id);
    assert.equal(entry.time, new Date(clock.now()).toISOString());
    assert.equal(entry.type, "approval.decided");
    assert.deepEqual(entry.subject, { type: "approval", id: "apr-0" });
    assert.equal(first.event_type, "approval.decided", "the query column says what the entry says");
    assert.equal(first.user_id, "user-0");

    clock.advance(1_000);
    const second = await ctx.db.transaction((tx) => fixture.audit.append(tx, sampleEvent(1)));
    assert.equal(await seqOf(ctx.db, second.id), 1);
    assert.equal(toHex((await row(1)).hash), toHex(chainHash(first.hash, 1, (await row(1)).entry)));
  });

  it("rolls back with the caller's transaction and leaves no gap", async () => {
    const { rows } = await ctx.db.query<{ next_seq: number }>("SELECT next_seq FROM audit_chain_head");
    const next = rows[0]?.next_seq as number;
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await fixture.audit.append(tx, sampleEvent(99));
        throw new Error("the domain change failed");
      }),
      /the domain change failed/,
    );
    const appended = await ctx.db.transaction((tx) => fixture.audit.append(tx, sampleEvent(2)));
    assert.equal(await seqOf(ctx.db, appended.id), next, "the rolled-back append did not use up a sequence number");
    assert.equal((await verifyWith(ctx.db, fixture)).ok, true);
  });

  it("holds the chain until the appending transaction ends: a concurrent append waits, then follows", async (t) => {
    if (ctx.kind !== "postgres") {
      t.diagnostic("PGlite runs one transaction at a time: no two can interleave");
      return;
    }
    const other = await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 1 });
    try {
      let release = () => {};
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      let signal = () => {};
      const appended = new Promise<void>((resolve) => {
        signal = resolve;
      });
      const first = other.transaction(async (tx) => {
        const event = await fixture.audit.append(tx, sampleEvent(41));
        signal();
        await hold; // the transaction stays open, holding the chain
        return event;
      });
      await appended;
      let secondDone = false;
      const second = ctx.db
        .transaction((tx) => fixture.audit.append(tx, sampleEvent(42)))
        .then((event) => {
          secondDone = true;
          return event;
        });
      // Poll until the second append is queued on the chain's lock (no sleeping).
      for (;;) {
        const { rows } = await ctx.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        );
        if ((rows[0]?.n ?? 0) > 0) break;
      }
      assert.equal(secondDone, false, "the second append waits for the first transaction");
      release();
      assert.equal((await second).seq, (await first).seq + 1, "and then builds on it");
      assert.equal((await verifyWith(ctx.db, fixture)).ok, true);
    } finally {
      await other.close();
    }
  });

  it("appends a batch in order with one statement", async () => {
    const events = [
      sampleEvent(10),
      sampleEvent(11, "user-x"),
      { type: "agent.revoked", actor: { type: "system" as const } },
    ];
    const appended = await ctx.db.transaction((tx) => fixture.audit.appendAll(tx, events));
    assert.equal(appended.length, 3);
    const seqs = await Promise.all(appended.map((a) => seqOf(ctx.db, a.id)));
    const first = seqs[0] as number;
    assert.deepEqual(seqs, [first, first + 1, first + 2], "contiguous, in the caller's order");
    for (const [i, seq] of seqs.entries()) {
      assert.equal(decodeAuditEntry((await row(seq)).entry).type, events[i]?.type);
    }
    assert.deepEqual(await ctx.db.transaction((tx) => fixture.audit.appendAll(tx, [])), []);
  });

  it("stores the context only encrypted, under AAD naming the audit log and the event id", async () => {
    const event = { ...sampleEvent(20, "user-ctx"), context: { ip: "198.51.100.7", secret_note: "do not leak" } };
    const appended = await ctx.db.transaction((tx) => fixture.audit.append(tx, event));
    const stored = await row(await seqOf(ctx.db, appended.id));
    const text = new TextDecoder().decode(stored.entry);
    assert.doesNotMatch(text, /198\.51\.100\.7|do not leak/, "no plaintext context in the entry");
    const entry = decodeAuditEntry(stored.entry);
    assert.match(entry.context as string, /^v1\.[A-Za-z0-9_-]+\./);
    assert.deepEqual(await openAuditContext(ctx.db, fixture.dataKeys, entry), {
      state: "open",
      context: { ip: "198.51.100.7", secret_note: "do not leak" },
    });
    // The same ciphertext claimed by another event does not open: the event id is in the AAD.
    const moved = { ...entry, id: "00000000-0000-4000-8000-000000000000" };
    assert.deepEqual(await openAuditContext(ctx.db, fixture.dataKeys, moved), { state: "unreadable" });
    assert.deepEqual(await openAuditContext(ctx.db, fixture.dataKeys, decodeAuditEntry((await row(0)).entry)), {
      state: "open",
      context: { ip: "192.0.2.0", user_agent: "test" },
    });
  });

  it("keeps the chain verifiable after the user is erased, while their context becomes unreadable", async () => {
    const appended = await ctx.db.transaction((tx) => fixture.audit.append(tx, sampleEvent(30, "user-erased")));
    await ctx.db.transaction((tx) => fixture.dataKeys.erase(tx, "user-erased"));
    const entry = decodeAuditEntry((await row(await seqOf(ctx.db, appended.id))).entry);
    assert.deepEqual(await openAuditContext(ctx.db, fixture.dataKeys, entry), { state: "unreadable" });
    assert.equal(entry.user, "user-erased", "the entry itself is untouched");
    const report = await verifyWith(ctx.db, fixture);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });

  it("refuses malformed events before touching the database", async () => {
    const { rows: before } = await ctx.db.query<{ next_seq: number }>("SELECT next_seq FROM audit_chain_head");
    const bad: unknown[] = [
      { ...sampleEvent(1), type: "Approval Decided" },
      { ...sampleEvent(1), type: "nodot" },
      { ...sampleEvent(1), actor: { type: "robot", id: "x" } },
      { ...sampleEvent(1), subject: { type: "approval", id: "" } },
      { ...sampleEvent(1), userId: "line\nbreak" },
      { ...sampleEvent(1), userId: null },
      { ...sampleEvent(1), details: [1, 2] },
      { ...sampleEvent(1), details: { when: new Date(0) } },
      { ...sampleEvent(1), details: { big: "x".repeat(9_000) } },
      { ...sampleEvent(1), context: { big: "x".repeat(40_000) } },
    ];
    for (const event of bad) {
      await assert.rejects(
        ctx.db.transaction((tx) => fixture.audit.append(tx, event as never)),
        (error: Error) =>
          error instanceof TypeError || error instanceof RangeError || error.name === "CountersignError",
        JSON.stringify(event).slice(0, 80),
      );
    }
    const { rows: after } = await ctx.db.query<{ next_seq: number }>("SELECT next_seq FROM audit_chain_head");
    assert.deepEqual(after, before);
  });
  it("keeps an entry of a decision's size in its row, uncompressed (migration 014)", async () => {
    const toastChunks = async () => {
      const { rows } = await ctx.db.query<{ toast: string }>(
        "SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE oid = 'audit_log'::regclass",
      );
      const { rows: counted } = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${rows[0]?.toast}`);
      return counted[0]?.n;
    };
    const before = await toastChunks();
    // A context of about 3 kB of ciphertext, like an approval's evidence: over the 2 kB at which
    // PostgreSQL would otherwise compress the entry or move it out of the row.
    const big = { ...sampleEvent(7), context: { evidence: "x".repeat(2_200) } };
    const appended = await ctx.db.transaction((tx) => fixture.audit.append(tx, big));
    const { rows } = await ctx.db.query<{ stored: number; length: number }>(
      "SELECT pg_column_size(entry) AS stored, length(entry) AS length FROM audit_log WHERE id = $1",
      [appended.id],
    );
    assert.ok((rows[0]?.length ?? 0) > 3_000, "the entry is over the default threshold");
    assert.equal(await toastChunks(), before, "nothing went to the TOAST table");
    assert.ok((rows[0]?.stored ?? 0) >= (rows[0]?.length ?? 0), "stored whole, not compressed");
  });
});
