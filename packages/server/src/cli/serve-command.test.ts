import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "../../test-support/free-port.ts";
import { runCli, startCli } from "../../test-support/run-cli.ts";
import { createTestDatabase } from "../../test-support/test-database.ts";
import { TEST_DATABASE_URL } from "../../test-support/test-env.ts";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cs-serve-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Only what the child needs: no DATABASE_URL or COUNTERSIGN_* leaks in from the test's environment. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...extra };
}

describe("countersign serve (embedded)", () => {
  it("starts with no configuration, answers health checks, stops on SIGTERM, and restarts on the same data", async () => {
    const cwd = tempDir();
    const port = await freePort();
    const env = childEnv({ COUNTERSIGN_PORT: String(port), COUNTERSIGN_LOG_LEVEL: "warn" });

    const first = startCli(["serve"], env, cwd);
    try {
      await first.waitFor(`Countersign is running at http://localhost:${port}`);
      assert.match(first.output(), /Generated development secrets in .*secrets\.json \(mode 0600\)/);
      for (const path of ["/healthz", "/readyz"]) {
        const res = await fetch(`http://localhost:${port}${path}`);
        assert.equal(res.status, 200, path);
        assert.deepEqual(await res.json(), { status: "ok" });
      }
      const openapi = await fetch(`http://localhost:${port}/openapi.json`);
      assert.equal((await openapi.json()).openapi, "3.1.0");
    } finally {
      assert.equal(await first.stop("SIGTERM"), 0, first.output());
    }

    const secrets = join(cwd, ".countersign", "secrets.json");
    assert.equal(statSync(secrets).mode & 0o777, 0o600);
    const before = readFileSync(secrets, "utf8");

    const second = startCli(["serve"], env, cwd);
    try {
      await second.waitFor("Countersign is running at");
      assert.doesNotMatch(second.output(), /Generated development secrets/);
      assert.match(second.output(), /Development mode: embedded database/);
      assert.equal((await fetch(`http://localhost:${port}/readyz`)).status, 200);
    } finally {
      assert.equal(await second.stop("SIGINT"), 0, second.output());
    }
    assert.equal(readFileSync(secrets, "utf8"), before, "the secrets were reused, not regenerated");
  });

  it("refuses to start with invalid configuration, naming the problem", async () => {
    const run = await runCli(["serve"], childEnv({ COUNTERSIGN_PORT: "http" }), tempDir());
    assert.equal(run.code, 1);
    assert.match(run.stderr, /COUNTERSIGN_PORT must be an integer/);
  });

  it("prints help, and refuses unknown commands with exit code 2", async () => {
    const help = await runCli(["--help"], childEnv({}), tempDir());
    assert.equal(help.code, 0);
    for (const command of ["serve", "migrate", "secrets generate"]) assert.match(help.stdout, new RegExp(command));
    const unknown = await runCli(["frobnicate"], childEnv({}), tempDir());
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });
});

// Like every database test, this runs on PostgreSQL when DATABASE_URL names one (as in CI).
if (TEST_DATABASE_URL !== undefined) {
  describe("countersign migrate and serve on PostgreSQL", () => {
    it("serve refuses an unmigrated database, migrate applies, then serve runs", async () => {
      // A database built from no migrations at all, as an operator's new database is.
      const target = await createTestDatabase("postgres", { migrationsDir: tempDir() });
      after(() => target.dispose());
      assert.ok(target.url);
      const port = await freePort();
      const env = childEnv({ DATABASE_URL: target.url, COUNTERSIGN_PORT: String(port), COUNTERSIGN_LOG_LEVEL: "warn" });
      const cwd = tempDir();

      const refused = await runCli(["serve"], env, cwd);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /needs migrations .*run `countersign migrate`/);

      const migrated = await runCli(["migrate"], env, cwd);
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.match(migrated.stdout, /Applied migrations: 1/);
      assert.match((await runCli(["migrate"], env, cwd)).stdout, /up to date/);

      const server = startCli(["serve"], env, cwd);
      try {
        await server.waitFor("database: PostgreSQL");
        assert.equal((await fetch(`http://localhost:${port}/readyz`)).status, 200);
      } finally {
        assert.equal(await server.stop(), 0, server.output());
      }
    });
  });
}
