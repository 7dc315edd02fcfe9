import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, mock } from "node:test";
import { fileURLToPath } from "node:url";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { pgliteTemplate } from "../../test-support/pglite-template.ts";
import { createTestDatabase, type TestDatabase, testDatabaseKinds } from "../../test-support/test-database.ts";
import {
  type AuditFixture,
  createAuditFixture,
  editEntryByte,
  sampleEvent,
} from "../audit/test-support/audit-fixtures.ts";
import { loadConfig } from "../config/load-config.ts";
import type { Database } from "../db/database.ts";
import { MIGRATIONS_DIR } from "../db/migrate.ts";
import { openPgliteDatabase } from "../db/pglite-database.ts";
import { auditCheckpointCommand } from "./audit-checkpoint-command.ts";
import { auditProveCommand } from "./audit-prove-command.ts";
import { auditPurgeCommand } from "./audit-purge-command.ts";
import { auditVerifyCommand } from "./audit-verify-command.ts";
import { auditVerifyProofCommand } from "./audit-verify-proof-command.ts";
import type { CliCommand } from "./cli-command.ts";

const DAY = 86_400_000;

/** Runs a command and returns its exit code and everything it printed. */
async function run(command: CliCommand, args: string[], env: Record<string, string>) {
  const out: string[] = [];
  const log = mock.method(console, "log", (...parts: unknown[]) => out.push(parts.join(" ")));
  const error = mock.method(console, "error", (...parts: unknown[]) => out.push(parts.join(" ")));
  try {
    return { code: await command.run(args, env), output: out.join("\n") };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

for (const kind of testDatabaseKinds()) {
  describe(`countersign audit … [${kind}]`, () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-audit-cli-"));
    const clock = createManualClock(Date.now() - 10 * DAY);
    let env: Record<string, string>;
    let fixture: AuditFixture;
    let postgres: TestDatabase | undefined;

    /** A connection for the test's own reads and writes; on PGlite it must be closed before a command runs. */
    async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
      if (postgres !== undefined) return fn(postgres.db);
      const db = await openPgliteDatabase({ path: join(dir, "pgdata") });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    }

    before(async () => {
      env = { COUNTERSIGN_ENV: "test", COUNTERSIGN_DATA_DIR: dir, COUNTERSIGN_PUBLIC_URL: "https://audit.test" };
      if (kind === "postgres") {
        postgres = await createTestDatabase("postgres");
        env.DATABASE_URL = postgres.url as string;
      } else {
        const db = await openPgliteDatabase({
          path: join(dir, "pgdata"),
          loadDataDir: await pgliteTemplate(MIGRATIONS_DIR),
        });
        await db.close();
      }
      // The commands read the secrets this writes into the data directory.
      fixture = await createAuditFixture({ clock, config: loadConfig(env) });
      await withDb(async (db) => {
        for (let i = 0; i < 10; i++) {
          if (i === 6) clock.set(Date.now());
          await db.transaction((tx) => fixture.audit.append(tx, sampleEvent(i)));
        }
      });
    });

    after(async () => {
      await postgres?.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it("checkpoint: prints nothing before the first, then signs and prints one with --force", async () => {
      const none = await run(auditCheckpointCommand, [], env);
      assert.equal(none.code, 1);
      assert.match(none.output, /no checkpoint has been signed yet/);
      const forced = await run(auditCheckpointCommand, ["--force"], env);
      assert.equal(forced.code, 0, forced.output);
      assert.match(forced.output, /^audit\.test\n10\n.+=\n\n— audit\.test /);
      const latest = await run(auditCheckpointCommand, [], env);
      assert.equal(latest.output, forced.output);
      // What `countersign audit checkpoint > checkpoint-10.txt` saves.
      writeFileSync(join(dir, "checkpoint-10.txt"), `${latest.output}\n`);
    });

    it("verify: exits 0 on an intact log, with the server's key or a pinned one", async () => {
      const ok = await run(auditVerifyCommand, [], env);
      assert.equal(ok.code, 0, ok.output);
      assert.match(ok.output, /entries 0 … 9 \(10 verified\)/);
      assert.match(ok.output, /^OK: /m);
      const pinned = await run(auditVerifyCommand, ["--key", fixture.signer.verifierKey], env);
      assert.equal(pinned.code, 0, pinned.output);
      const other = await createAuditFixture();
      const wrong = await run(auditVerifyCommand, ["--key", other.signer.verifierKey], env);
      assert.equal(wrong.code, 1);
      assert.match(wrong.output, /not validly signed by the log key/);
      const json = await run(auditVerifyCommand, ["--json"], env);
      assert.equal(JSON.parse(json.output).ok, true);
      assert.equal((await run(auditVerifyCommand, ["--key", "nonsense"], env)).code, 2);
    });

    it("verify: exits 1 and names the first bad entry after a one-byte edit", async () => {
      const restore = await withDb((db) => editEntryByte(db, 4));
      const bad = await run(auditVerifyCommand, [], env);
      await withDb((db) => restore(db));
      assert.equal(bad.code, 1);
      assert.match(bad.output, /FAILED: 1 problem\. First bad entry: seq 4\./);
      assert.match(bad.output, /\[hash\] entry 4 does not match its hash/);
    });

    it("prove and verify-proof: an entry checked offline against the saved checkpoint", async () => {
      const proved = await run(auditProveCommand, ["--index", "3"], env);
      assert.equal(proved.code, 0, proved.output);
      const file = JSON.parse(proved.output);
      assert.equal(file.tree_size, 10);
      writeFileSync(join(dir, "proof-3.json"), proved.output);
      const args = ["--proof", join(dir, "proof-3.json"), "--checkpoint", join(dir, "checkpoint-10.txt")];
      const ok = await run(auditVerifyProofCommand, [...args, "--key", fixture.signer.verifierKey], {});
      assert.equal(ok.code, 0, ok.output);
      assert.match(ok.output, /^OK: entry 3 \(approval\.decided at .*\) is in audit\.test's audit log of 10 entries/);
      const other = await createAuditFixture();
      const bad = await run(auditVerifyProofCommand, [...args, "--key", other.signer.verifierKey], {});
      assert.equal(bad.code, 1);
      assert.match(bad.output, /^FAILED: the checkpoint is not signed by this key/);
      assert.equal((await run(auditVerifyProofCommand, args, {})).code, 2);

      const outside = await run(auditProveCommand, ["--index", "10"], env);
      assert.equal(outside.code, 1);
      assert.match(outside.output, /out of range.*the signed tree has 10 entries/);
      assert.equal((await run(auditProveCommand, ["--index", "x"], env)).code, 2);
    });

    it("purge: needs a date or a retention period, refuses the future, then removes the old prefix", async () => {
      assert.equal((await run(auditPurgeCommand, [], env)).code, 2);
      assert.equal((await run(auditPurgeCommand, ["--before", "yesterday"], env)).code, 2);
      assert.equal((await run(auditPurgeCommand, ["--before", "2999-01-01"], env)).code, 2);
      const retention = { ...env, COUNTERSIGN_AUDIT_RETENTION_DAYS: "5" };
      const dry = await run(auditPurgeCommand, ["--dry-run"], retention);
      assert.equal(dry.code, 0, dry.output);
      assert.match(dry.output, /Would remove entries 0 … 5 \(6\)/);
      const purged = await run(auditPurgeCommand, [], retention);
      assert.equal(purged.code, 0, purged.output);
      assert.match(
        purged.output,
        /Removed entries 0 … 5 \(6\); verification now starts at the anchor at seq 6\. Recorded as audit event 10\./,
      );
      const verified = await run(auditVerifyCommand, [], env);
      assert.equal(verified.code, 0, verified.output);
      assert.match(verified.output, /from the purge anchor at seq 6/);
      // The checkpoint saved before the purge still proves a kept entry.
      const proved = await run(auditProveCommand, ["--index", "8", "--size", "10"], env);
      writeFileSync(join(dir, "proof-8.json"), proved.output);
      const offline = await run(
        auditVerifyProofCommand,
        [
          "--proof",
          join(dir, "proof-8.json"),
          "--checkpoint",
          join(dir, "checkpoint-10.txt"),
          "--key",
          fixture.signer.verifierKey,
        ],
        {},
      );
      assert.equal(offline.code, 0, offline.output);
      const again = await run(auditPurgeCommand, [], retention);
      assert.match(again.output, /Nothing to purge/);
    });
  });
}

describe("countersign --help", () => {
  it("lists the audit commands", () => {
    const bin = fileURLToPath(new URL("../../bin/countersign.js", import.meta.url));
    const result = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    for (const name of ["audit verify", "audit checkpoint", "audit prove", "audit verify-proof", "audit purge"]) {
      assert.match(result.stdout, new RegExp(`\\n  ${name} `), name);
    }
  });
});
