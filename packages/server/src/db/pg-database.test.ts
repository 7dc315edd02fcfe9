import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createTestDatabase, type TestDatabase } from "../../test-support/test-database.ts";
import { TEST_DATABASE_URL } from "../../test-support/test-env.ts";
import type { Database } from "./database.ts";
import { openPgDatabase } from "./pg-database.ts";

// PostgreSQL-only behaviour (the shared behaviour is in database.test.ts); needs DATABASE_URL.
if (TEST_DATABASE_URL !== undefined) {
  describe("openPgDatabase", () => {
    let database: TestDatabase;
    let url: string;
    before(async () => {
      database = await createTestDatabase("postgres");
      url = database.url ?? "";
    });
    after(async () => {
      await database.dispose();
    });

    it("re-subscribes after the LISTEN connection is killed", { timeout: 20_000 }, async () => {
      const backgroundErrors: Error[] = [];
      const db = await openPgDatabase({
        databaseUrl: url,
        listenReconnectDelayMs: 20,
        onBackgroundError: (error) => backgroundErrors.push(error),
      });
      try {
        const payloads: string[] = [];
        const unlisten = await db.listen("Survives", (payload) => payloads.push(payload));
        const killed = await db.query<{ pid: number }>(
          `SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'countersign-listen'`,
        );
        assert.equal(killed.rowCount, 1, "exactly one LISTEN connection");

        // Notifications sent while it is down are lost by design; keep sending until one lands.
        const deadline = Date.now() + 10_000;
        for (let attempt = 0; payloads.length === 0 && Date.now() < deadline; attempt += 1) {
          await db.query("SELECT pg_notify('Survives', $1)", [`attempt ${attempt}`]);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        assert.ok(payloads.length > 0, "a notification arrived after the reconnect");
        assert.ok(
          backgroundErrors.some((error) => /LISTEN connection failed/.test(error.message)),
          "the drop was reported",
        );
        const listeners = await db.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'countersign-listen'",
        );
        assert.equal(listeners.rowCount, 1);
        assert.notEqual(listeners.rows[0]?.pid, killed.rows[0]?.pid);
        await unlisten();
      } finally {
        await db.close();
      }
    });

    it("never opens more pooled connections than poolSize", { timeout: 20_000 }, async () => {
      const db: Database = await openPgDatabase({ databaseUrl: url, poolSize: 2 });
      try {
        const results = await Promise.all(
          Array.from({ length: 6 }, () => db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)")),
        );
        const pids = new Set(results.map((result) => result.rows[0]?.pid));
        assert.equal(pids.size, 2);
      } finally {
        await db.close();
      }
    });

    it("reports a dropped idle connection instead of crashing, and recovers", { timeout: 20_000 }, async () => {
      const backgroundErrors: Error[] = [];
      const db = await openPgDatabase({
        databaseUrl: url,
        poolSize: 1,
        onBackgroundError: (error) => backgroundErrors.push(error),
      });
      try {
        const { rows } = await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        await database.db.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
        const deadline = Date.now() + 5000;
        while (backgroundErrors.length === 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.match(backgroundErrors[0]?.message ?? "", /idle PostgreSQL connection .* failed/);
        assert.deepEqual((await db.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
      } finally {
        await db.close();
      }
    });
  });
}
