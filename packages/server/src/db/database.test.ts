import assert from "node:assert/strict";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";

/** Resolves with the first value `subscribe` hands over, or rejects after `ms`. */
function within<T>(ms: number, subscribe: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing arrived within ${ms} ms`)), ms);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

const INSTANT = new Date("2024-02-29T23:59:59.123Z");
const BYTES = new Uint8Array([0, 1, 2, 127, 128, 253, 254, 255]);

describeEachDatabase("Database", (ctx) => {
  before(async () => {
    await ctx.db.exec(`
      CREATE TABLE type_roundtrip (
        id int PRIMARY KEY,
        i8 int8, num numeric, tstz timestamptz, ts timestamp, b bytea, j json, jb jsonb, flag bool,
        i4 int4, i2 int2, f8 float8, t text, d date, u uuid,
        i8s int8[], texts text[], tstzs timestamptz[], bs bytea[], jbs jsonb[]
      );
      CREATE TABLE counters (name text PRIMARY KEY, value int NOT NULL);
      CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);
    `);
  });

  it("round-trips every mapped type through parameters and returns the same JS types", async () => {
    const params = [
      1,
      Number.MAX_SAFE_INTEGER,
      "12345678901234567890.123456789",
      INSTANT,
      INSTANT,
      BYTES,
      JSON.stringify({ a: [1, "x", null] }),
      JSON.stringify([{ nested: { ok: true } }, 2]),
      true,
      -2147483648,
      -32768,
      1.5,
      'héllo "quoted", \\ back',
      "2024-02-29",
      "9f1c5a5e-6f0a-4b7e-9a51-1f6f3c2b7d10",
      [1, -2, Number.MIN_SAFE_INTEGER],
      ["a,b", 'c"d', "NULL", null, "e\\f", ""],
      [INSTANT, new Date(0)],
      [BYTES, new Uint8Array([])],
      [JSON.stringify({ k: "v" })],
    ];
    await ctx.db.query(
      `INSERT INTO type_roundtrip VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
      params,
    );
    const { rows } = await ctx.db.query("SELECT * FROM type_roundtrip WHERE id = 1");
    assert.deepEqual(rows[0], {
      id: 1,
      i8: Number.MAX_SAFE_INTEGER,
      num: "12345678901234567890.123456789",
      tstz: INSTANT,
      ts: INSTANT,
      b: BYTES,
      j: { a: [1, "x", null] },
      jb: [{ nested: { ok: true } }, 2],
      flag: true,
      i4: -2147483648,
      i2: -32768,
      f8: 1.5,
      t: 'héllo "quoted", \\ back',
      d: "2024-02-29",
      u: "9f1c5a5e-6f0a-4b7e-9a51-1f6f3c2b7d10",
      i8s: [1, -2, Number.MIN_SAFE_INTEGER],
      texts: ["a,b", 'c"d', "NULL", null, "e\\f", ""],
      tstzs: [INSTANT, new Date(0)],
      bs: [BYTES, new Uint8Array([])],
      jbs: [{ k: "v" }],
    });
    // deepEqual already compares prototypes; say it outright for the one that differs by default.
    assert.equal(Object.getPrototypeOf(rows[0]?.b), Uint8Array.prototype);
  });

  it("parses server-produced values the same way", async () => {
    const { rows } = await ctx.db.query(`
      SELECT 9007199254740991::int8 AS big, 0.1::numeric + 0.2 AS exact, '2024-02-29 23:59:59.123456+00'::timestamptz AS at,
             '\\x00ff'::bytea AS bytes, '{"a":1}'::jsonb AS doc, 't'::bool AS yes, NULL::int AS nothing,
             '1 day'::interval AS span, 3::int2 AS small, 2.5::float4 AS float, 42::oid AS oid`);
    assert.deepEqual(rows[0], {
      big: Number.MAX_SAFE_INTEGER,
      exact: "0.3",
      at: new Date("2024-02-29T23:59:59.123Z"),
      bytes: new Uint8Array([0, 255]),
      doc: { a: 1 },
      yes: true,
      nothing: null,
      span: "1 day",
      small: 3,
      float: 2.5,
      oid: 42,
    });
  });

  it("stores a Date in a timestamp column as UTC whatever the process time zone", async () => {
    const previous = process.env.TZ;
    process.env.TZ = "America/New_York";
    try {
      const { rows } = await ctx.db.query<{ ts: Date; wall: string }>(
        "SELECT $1::timestamp AS ts, $1::timestamp::text AS wall",
        [INSTANT],
      );
      assert.deepEqual(rows[0], { ts: INSTANT, wall: "2024-02-29 23:59:59.123" });
    } finally {
      if (previous === undefined) {
        delete process.env.TZ;
      } else {
        process.env.TZ = previous;
      }
    }
  });

  it("uses the UTC session time zone and reads other offsets correctly", async () => {
    const zone = await ctx.db.query<{ zone: string }>("SELECT current_setting('TimeZone') AS zone");
    assert.match(zone.rows[0]?.zone ?? "", /^(Etc\/)?UTC$/);
    const shifted = await ctx.db.transaction(async (tx) => {
      await tx.exec("SET LOCAL TIME ZONE 'Asia/Kolkata'; SET LOCAL bytea_output = 'escape'");
      return tx.query<{ at: Date; text: string; bytes: Uint8Array }>(
        "SELECT $1::timestamptz AS at, $1::timestamptz::text AS text, '\\x005c41ff'::bytea AS bytes",
        [INSTANT],
      );
    });
    assert.deepEqual(shifted.rows[0], {
      at: INSTANT,
      text: "2024-03-01 05:29:59.123+05:30",
      bytes: new Uint8Array([0, 0x5c, 0x41, 0xff]),
    });
  });

  it("refuses int8 values outside the safe integer range and stays usable", async () => {
    await assert.rejects(ctx.db.query("SELECT 9007199254740992::int8 AS x"), /safe integer range/);
    await assert.rejects(ctx.db.query("SELECT 'infinity'::timestamptz AS x"), /only finite/);
    const { rows } = await ctx.db.query("SELECT $1::int8::text AS x", [2n ** 62n]);
    assert.deepEqual(rows, [{ x: "4611686018427387904" }]);
  });

  it("reports rowCount for selects, changes and DDL", async () => {
    assert.equal((await ctx.db.query("INSERT INTO items VALUES (1, 'a'), (2, 'b')")).rowCount, 2);
    assert.equal((await ctx.db.query("UPDATE items SET label = 'c' WHERE id > $1", [0])).rowCount, 2);
    assert.equal((await ctx.db.query("SELECT * FROM items")).rowCount, 2);
    assert.equal((await ctx.db.query("CREATE TABLE scratch (x int)")).rowCount, 0);
    assert.equal((await ctx.db.query("DELETE FROM items")).rowCount, 2);
  });

  it("runs one statement per query and several per exec", async () => {
    await assert.rejects(ctx.db.query("SELECT 1; SELECT 2"));
    await ctx.db.exec("INSERT INTO items VALUES (10, 'x'); INSERT INTO items VALUES (11, 'y')");
    const { rows } = await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM items WHERE id >= 10");
    assert.equal(rows[0]?.n, 2);
  });

  it("exposes the SQLSTATE of database errors as code", async () => {
    await ctx.db.query("INSERT INTO items VALUES (20, 'dup')");
    await assert.rejects(ctx.db.query("INSERT INTO items VALUES (20, 'dup')"), { code: "23505" });
    await assert.rejects(ctx.db.query("SELECT * FROM no_such_table"), { code: "42P01" });
  });

  it("commits a transaction and returns its result", async () => {
    const result = await ctx.db.transaction(async (tx) => {
      await tx.query("INSERT INTO items VALUES (30, 'committed')");
      return (await tx.query<{ label: string }>("SELECT label FROM items WHERE id = 30")).rows[0]?.label;
    });
    assert.equal(result, "committed");
    assert.equal((await ctx.db.query("SELECT 1 FROM items WHERE id = 30")).rowCount, 1);
  });

  it("rolls back when the callback throws and rethrows the original error", async () => {
    const boom = new Error("boom");
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await tx.query("INSERT INTO items VALUES (31, 'rolled back')");
        throw boom;
      }),
      (error) => error === boom,
    );
    assert.equal((await ctx.db.query("SELECT 1 FROM items WHERE id = 31")).rowCount, 0);
  });

  it("rolls back a failed statement's transaction and surfaces the database error", async () => {
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await tx.query("INSERT INTO items VALUES (32, 'first')");
        await tx.query("INSERT INTO items VALUES (32, 'again')");
      }),
      { code: "23505" },
    );
    assert.equal((await ctx.db.query("SELECT 1 FROM items WHERE id = 32")).rowCount, 0);
  });

  it("refuses to report success when the callback swallowed a failed statement", async () => {
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await tx.query("INSERT INTO items VALUES (33, 'lost')");
        await tx.query("SELECT 1/0").catch(() => {});
        return "pretends to succeed";
      }),
      { code: "25P02", message: /COMMIT rolled the transaction back/ },
    );
    assert.equal((await ctx.db.query("SELECT 1 FROM items WHERE id = 33")).rowCount, 0);
  });

  it("serializes concurrent transactions without lost updates", { timeout: 20_000 }, async () => {
    await ctx.db.query("INSERT INTO counters VALUES ('c', 0)");
    await Promise.all(
      Array.from({ length: 20 }, () =>
        ctx.db.transaction(async (tx) => {
          const { rows } = await tx.query<{ value: number }>("SELECT value FROM counters WHERE name = 'c' FOR UPDATE");
          await new Promise((resolve) => setImmediate(resolve));
          await tx.query("UPDATE counters SET value = $1 WHERE name = 'c'", [(rows[0]?.value ?? 0) + 1]);
        }),
      ),
    );
    const { rows } = await ctx.db.query<{ value: number }>("SELECT value FROM counters WHERE name = 'c'");
    assert.equal(rows[0]?.value, 20);
  });

  it("never runs a concurrent caller's statement inside another caller's transaction", {
    timeout: 20_000,
  }, async () => {
    let openGate = (): void => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let inserted = (): void => {};
    const started = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const failing = ctx.db.transaction(async (tx) => {
      await tx.query("INSERT INTO items VALUES (40, 'inside')");
      inserted();
      await gate;
      throw new Error("roll back");
    });
    await started;
    const outside = ctx.db.query("INSERT INTO items VALUES (41, 'outside')");
    await new Promise((resolve) => setTimeout(resolve, 20));
    openGate();
    await assert.rejects(failing, /roll back/);
    await outside;
    const { rows } = await ctx.db.query<{ id: number }>("SELECT id FROM items WHERE id IN (40, 41) ORDER BY id");
    assert.deepEqual(rows, [{ id: 41 }]);
  });

  it("throws instead of deadlocking when the database is used inside its own transaction", {
    timeout: 10_000,
  }, async () => {
    const result = await ctx.db.transaction(async (tx) => {
      await assert.rejects(ctx.db.query("SELECT 1"), /inside db.transaction\(\)/);
      await assert.rejects(ctx.db.exec("SELECT 1"), /db.exec\(\) was called inside/);
      await assert.rejects(
        ctx.db.transaction(async () => 1),
        /db.transaction\(\) was called inside/,
      );
      await assert.rejects(
        ctx.db.listen("nested", () => {}),
        /db.listen\(\) was called inside/,
      );
      return (await tx.query<{ ok: number }>("SELECT 1 AS ok")).rows[0]?.ok;
    });
    assert.equal(result, 1);
    // Work started inside a transaction may use the database once the transaction is over.
    let later: Promise<unknown> = Promise.resolve();
    await ctx.db.transaction(async () => {
      later = new Promise((resolve) => setTimeout(resolve, 5)).then(() => ctx.db.query("SELECT 1"));
    });
    await later;
  });

  it("runs a transaction's statements asked for at once one at a time, in the order asked", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const order = await ctx.db.transaction(async (tx) => {
        await tx.exec("CREATE TEMP TABLE turn_order (n int) ON COMMIT DROP");
        await Promise.all([1, 2, 3, 4, 5].map((n) => tx.query("INSERT INTO turn_order VALUES ($1)", [n])));
        const { rows } = await tx.query<{ n: number }>("SELECT n FROM turn_order ORDER BY ctid");
        return rows.map((row) => row.n);
      });
      assert.deepEqual(order, [1, 2, 3, 4, 5]);
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings, [], "pg was never handed a statement while busy");
  });

  it("refuses a transaction handle used after its callback settled", async () => {
    const leaked = await ctx.db.transaction(async (tx) => tx);
    await assert.rejects(leaked.query("SELECT 1"), /this transaction has ended/);
    await assert.rejects(leaked.exec("SELECT 1"), /this transaction has ended/);
  });

  it("delivers notifications on the exact, case-sensitive channel", { timeout: 10_000 }, async () => {
    const received: string[] = [];
    let saw = (_payload: string): void => {};
    const arrived = within<string>(5000, (resolve) => {
      saw = resolve;
    });
    const unlisten = await ctx.db.listen("Approval Events", (payload) => {
      received.push(payload);
      saw(payload);
    });
    // Sent first: if it were delivered, it would be the first payload seen.
    await ctx.db.query("SELECT pg_notify('approval events', 'wrong case')");
    await ctx.db.query("SELECT pg_notify($1, $2)", ["Approval Events", "right case"]);
    assert.equal(await arrived, "right case");
    assert.deepEqual(received, ["right case"]);
    await unlisten();
  });

  it("fans out to every subscriber and stops after unlisten", { timeout: 10_000 }, async () => {
    const first: string[] = [];
    const second: string[] = [];
    let secondSaw = (_payload: string): void => {};
    const stopFirst = await ctx.db.listen("fanout", (payload) => first.push(payload));
    const stopSecond = await ctx.db.listen("fanout", (payload) => {
      second.push(payload);
      secondSaw(payload);
    });

    const one = within<string>(5000, (resolve) => {
      secondSaw = resolve;
    });
    await ctx.db.query("SELECT pg_notify('fanout', 'one')");
    await one;
    await stopFirst();
    await stopFirst(); // idempotent

    const two = within<string>(5000, (resolve) => {
      secondSaw = resolve;
    });
    await ctx.db.query("SELECT pg_notify('fanout', 'two')");
    await two;
    assert.deepEqual(first, ["one"]);
    assert.deepEqual(second, ["one", "two"]);
    await stopSecond();
  });

  it("delivers a notification sent in a transaction only when it commits", { timeout: 10_000 }, async () => {
    const payloads: string[] = [];
    let saw = (_payload: string): void => {};
    const unlisten = await ctx.db.listen("tx-events", (payload) => {
      payloads.push(payload);
      saw(payload);
    });
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await tx.query("SELECT pg_notify('tx-events', 'rolled back')");
        throw new Error("abort");
      }),
      /abort/,
    );
    const committed = within<string>(5000, (resolve) => {
      saw = resolve;
    });
    await ctx.db.transaction(async (tx) => {
      await tx.query("SELECT pg_notify('tx-events', 'committed')");
    });
    await committed;
    assert.deepEqual(payloads, ["committed"]);
    await unlisten();
  });

  it("refuses channel names PostgreSQL would truncate", async () => {
    await assert.rejects(
      ctx.db.listen("x".repeat(64), () => {}),
      /longer than 63 bytes/,
    );
    await assert.rejects(
      ctx.db.listen("", () => {}),
      /non-empty/,
    );
  });

  it("runs afterCommit callbacks in order after COMMIT, and never after a rollback", async () => {
    const seen: string[] = [];
    const value = await ctx.db.transaction(async (tx) => {
      await tx.query("INSERT INTO items (id, label) VALUES (900, 'after-commit')");
      tx.afterCommit(() => seen.push("first"));
      tx.afterCommit(() => seen.push("second"));
      assert.deepEqual(seen, [], "nothing runs before the commit");
      return "done";
    });
    assert.equal(value, "done");
    assert.deepEqual(seen, ["first", "second"]);

    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        tx.afterCommit(() => seen.push("rolled back"));
        throw new Error("boom");
      }),
      /boom/,
    );
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        tx.afterCommit(() => seen.push("failed commit"));
        await tx.query("SELECT 1 / 0").catch(() => undefined);
      }),
    );
    assert.deepEqual(seen, ["first", "second"]);
  });
});
