import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pgliteTemplate } from "../../test-support/pglite-template.ts";
import { TEST_DATABASE_URL } from "../../test-support/test-env.ts";
import { MIGRATIONS_DIR } from "./migrate.ts";
import { openDatabase } from "./open-database.ts";
import { openPgliteDatabase } from "./pglite-database.ts";

const scratch = mkdtempSync(join(tmpdir(), "cs-open-db-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe("openDatabase, embedded", () => {
  const dataDir = join(scratch, "data", "nested");

  it("creates PGlite in <dataDir>/pgdata and reopens it quickly with its data", { timeout: 60_000 }, async (t) => {
    let started = performance.now();
    const first = await openDatabase({ dataDir });
    t.diagnostic(`first start (initdb): ${Math.round(performance.now() - started)} ms`);
    assert.equal(first.kind, "pglite");
    assert.ok(existsSync(join(dataDir, "pgdata", "PG_VERSION")));
    await first.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    await first.close();
    await first.close(); // idempotent

    started = performance.now();
    const second = await openDatabase({ dataDir });
    const reopenMs = performance.now() - started;
    t.diagnostic(`reopen: ${Math.round(reopenMs)} ms`);
    try {
      assert.ok(reopenMs < 3000, `reopening took ${Math.round(reopenMs)} ms`);
      assert.deepEqual((await second.query("SELECT v FROM kept")).rows, [{ v: "still here" }]);
    } finally {
      await second.close();
    }
  });

  it("refuses a second opener of the same data directory", { timeout: 30_000 }, async () => {
    const db = await openDatabase({ dataDir });
    try {
      await assert.rejects(openDatabase({ dataDir }), /already open in this process/);
      // Another live process holding the lock: our parent (the test runner) is alive.
      await db.close();
      writeFileSync(join(dataDir, "pgdata.lock"), `${process.ppid}\n`);
      await assert.rejects(openDatabase({ dataDir }), new RegExp(`in use by process ${process.ppid}`));
    } finally {
      await db.close();
      rmSync(join(dataDir, "pgdata.lock"), { force: true });
    }
  });

  it("takes over the lock of a process that has exited", { timeout: 30_000 }, async () => {
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(dataDir, "pgdata.lock"), `${gone}\n`);
    const db = await openDatabase({ dataDir });
    try {
      assert.equal(readFileSync(join(dataDir, "pgdata.lock"), "utf8"), `${process.pid}\n`);
    } finally {
      await db.close();
    }
    assert.equal(existsSync(join(dataDir, "pgdata.lock")), false, "close releases the lock");
  });
});

describe("openPgliteDatabase, in memory", () => {
  it("clones a database through dumpDataDir and loadDataDir", { timeout: 60_000 }, async () => {
    // Started from the cached template: initializing an empty PGlite would take seconds.
    const original = await openPgliteDatabase({ loadDataDir: await pgliteTemplate(MIGRATIONS_DIR) });
    try {
      await original.exec("CREATE TABLE t (v int); INSERT INTO t VALUES (1)");
      const copy = await openPgliteDatabase({ loadDataDir: await original.dumpDataDir() });
      try {
        await copy.query("INSERT INTO t VALUES (2)");
        assert.deepEqual((await copy.query("SELECT v FROM t ORDER BY v")).rows, [{ v: 1 }, { v: 2 }]);
        assert.deepEqual((await original.query("SELECT v FROM t ORDER BY v")).rows, [{ v: 1 }]);
      } finally {
        await copy.close();
      }
    } finally {
      await original.close();
    }
  });
});

describe("openDatabase, PostgreSQL", () => {
  it("names the server but never the password when it cannot connect", async () => {
    await assert.rejects(
      openDatabase({ databaseUrl: "postgres://countersign:s3cret-pw@127.0.0.1:1/nowhere", dataDir: scratch }),
      (error: Error) => {
        assert.match(error.message, /cannot use the PostgreSQL database at 127\.0\.0\.1:1\/nowhere/);
        assert.doesNotMatch(error.message, /s3cret-pw/);
        assert.ok(error.cause instanceof Error);
        return true;
      },
    );
  });

  it("names the socket, not the URL's host, for a Unix socket URL", async () => {
    const socketDir = join(scratch, "no-server-here");
    await assert.rejects(
      openDatabase({
        databaseUrl: `postgres://countersign:s3cret-pw@localhost/nowhere?host=${socketDir}`,
        dataDir: scratch,
      }),
      (error: Error) => {
        assert.ok(error.message.includes(`at ${socketDir}/.s.PGSQL.5432/nowhere:`), error.message);
        assert.doesNotMatch(error.message, /s3cret-pw|localhost/);
        return true;
      },
    );
  });

  it("refuses a pool size that is not a positive integer", async () => {
    await assert.rejects(
      openDatabase({ databaseUrl: "postgres://127.0.0.1:1/x", dataDir: scratch, poolSize: 0 }),
      /poolSize must be a positive integer/,
    );
  });

  if (TEST_DATABASE_URL !== undefined) {
    const databaseUrl = TEST_DATABASE_URL;
    it("uses PostgreSQL when a URL is given", async () => {
      const db = await openDatabase({ databaseUrl, dataDir: join(scratch, "unused"), poolSize: 2 });
      try {
        assert.equal(db.kind, "postgres");
        assert.deepEqual((await db.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
        assert.equal(existsSync(join(scratch, "unused")), false, "no embedded database is created");
      } finally {
        await db.close();
      }
    });
  }
});
