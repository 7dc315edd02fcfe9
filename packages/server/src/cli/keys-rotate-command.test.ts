import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { toBase64Url } from "@countersign/protocol";
import { runCli } from "../../test-support/run-cli.ts";
import { createTestDatabase, type TestDatabase } from "../../test-support/test-database.ts";
import { TEST_DATABASE_URL } from "../../test-support/test-env.ts";
import { loadConfig } from "../config/load-config.ts";
import { generateSecretsDocument } from "../config/server-secrets.ts";
import { countDataKeysByKek } from "../crypto/count-data-keys-by-kek.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { decryptFieldText, encryptField } from "../crypto/field-cipher.ts";
import { fieldKeyId } from "../crypto/field-key-id.ts";
import { createUserDataKeys } from "../crypto/user-data-keys.ts";
import type { Database } from "../db/database.ts";
import { MIGRATIONS_DIR, migrate } from "../db/migrate.ts";
import { openDatabase } from "../db/open-database.ts";

const USERS = ["ann", "ben", "cat"];
const where = (rowId: string) => ({ table: "people", column: "email", rowId });

type KekEntry = { kid: string; key: string };

/** Rewrites the key-encryption keys of a secrets file; the first one listed is current. */
function editKeks(file: string, edit: (keks: KekEntry[]) => KekEntry[]): void {
  const document = JSON.parse(readFileSync(file, "utf8")) as { keyEncryptionKeys: KekEntry[] };
  document.keyEncryptionKeys = edit(document.keyEncryptionKeys);
  writeFileSync(file, JSON.stringify(document, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
}

const newKek = (kid: string): KekEntry => ({ kid, key: toBase64Url(randomBytes(32)) });

/** Where the CLI runs: an embedded data directory, or a PostgreSQL test database. */
interface Target {
  /** The environment the CLI and `loadConfig` get. */
  env: Record<string, string>;
  secretsFile: string;
  /** Opens the target's database from this process; close it before running the CLI on PGlite. */
  open(): Promise<Database>;
}

function rotateScenario(title: string, makeTarget: (dir: string) => Promise<Target>, cleanup: () => Promise<void>) {
  describe(title, () => {
    let dir = "";
    let target: Target;
    const sealed = new Map<string, string>();
    let firstKek = "";

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "cs-keys-rotate-"));
      target = await makeTarget(dir);
      // The server as it ran before rotation: data keys wrapped by the first KEK, one field each.
      const config = loadConfig(target.env);
      firstKek = config.secrets.keyEncryptionKeys.current;
      const keys = createUserDataKeys(createKeyRingFromConfig(config));
      const db = await target.open();
      try {
        await migrate(db, MIGRATIONS_DIR);
        for (const user of USERS) {
          const key = await keys.forWriting(db, user);
          sealed.set(user, encryptField(key, where(user), `${user}@example.org`));
        }
      } finally {
        await db.close();
      }
    });

    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await cleanup();
    });

    it("re-wraps every data key under a newly added KEK and says so", async () => {
      editKeks(target.secretsFile, (keks) => [newKek("kek-new"), ...keks]);
      const run = await runCli(["keys", "rotate"], target.env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Re-wrapped 3 data keys under kek-new; 0 already current; 0 failed\.$/m);
      assert.match(run.stdout, new RegExp(`No data key uses ${firstKek} any more`));
    });

    it("leaves keys that a ring holding only the new KEK opens, and nothing to do on a second run", async () => {
      editKeks(target.secretsFile, (keks) => keks.filter((kek) => kek.kid === "kek-new"));
      const config = loadConfig(target.env);
      assert.deepEqual([...config.secrets.keyEncryptionKeys.keys.keys()], ["kek-new"]);
      const keys = createUserDataKeys(createKeyRingFromConfig(config));
      const db = await target.open();
      try {
        assert.deepEqual(await countDataKeysByKek(db), new Map([["kek-new", 3]]));
        for (const user of USERS) {
          const envelope = sealed.get(user) ?? "";
          const key = await keys.loadKey(db, fieldKeyId(envelope) ?? "");
          assert.equal(
            decryptFieldText(() => key, where(user), envelope),
            `${user}@example.org`,
          );
        }
      } finally {
        await db.close();
      }
      const run = await runCli(["keys", "rotate", "--batch-size", "2"], target.env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Re-wrapped 0 data keys under kek-new; 3 already current; 0 failed\.$/m);
      assert.match(run.stdout, /No older KEK is in the key ring\./);
    });

    it("exits 1 naming the user whose key could not be unwrapped, and still rotates the others", async () => {
      const db = await target.open();
      try {
        // One flipped base64url character in ben's wrapped key: it no longer authenticates.
        await db.query(
          `UPDATE user_data_keys SET wrapped = overlay(wrapped placing
             (CASE WHEN substr(wrapped, 30, 1) = 'A' THEN 'B' ELSE 'A' END) from 30 for 1)
           WHERE user_id = 'ben'`,
        );
      } finally {
        await db.close();
      }
      editKeks(target.secretsFile, (keks) => [newKek("kek-third"), ...keks]);
      const run = await runCli(["keys", "rotate"], target.env);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /^Re-wrapped 2 data keys under kek-third; 0 already current; 1 failed: ben$/m);
      assert.match(run.stdout, /^Still wrapped by older KEKs: kek-new \(1\)\.$/m);
      assert.match(run.stderr, /keep every older KEK in the ring/);
      assert.doesNotMatch(run.stdout, /No data key uses/);
    });

    it("refuses a bad --batch-size with exit code 2", async () => {
      const run = await runCli(["keys", "rotate", "--batch-size", "0"], target.env);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--batch-size must be an integer/);
    });
  });
}

rotateScenario(
  "countersign keys rotate [embedded]",
  async (dir) => {
    const env = { COUNTERSIGN_ENV: "test", COUNTERSIGN_DATA_DIR: dir };
    // The first load generates <dataDir>/secrets.json, as `countersign serve` would.
    assert.equal(loadConfig(env).secrets.source, "generated");
    return { env, secretsFile: join(dir, "secrets.json"), open: () => openDatabase({ dataDir: dir }) };
  },
  async () => {},
);

if (TEST_DATABASE_URL !== undefined) {
  let database: TestDatabase | undefined;
  rotateScenario(
    "countersign keys rotate [postgres]",
    async (dir) => {
      database = await createTestDatabase("postgres");
      const url = database.url ?? "";
      const secretsFile = join(dir, "secrets.json");
      writeFileSync(secretsFile, JSON.stringify(generateSecretsDocument()), { mode: 0o600 });
      return {
        env: {
          COUNTERSIGN_ENV: "test",
          COUNTERSIGN_DATA_DIR: dir,
          COUNTERSIGN_SECRETS_FILE: secretsFile,
          DATABASE_URL: url,
        },
        secretsFile,
        open: () => openDatabase({ databaseUrl: url, dataDir: dir, poolSize: 1 }),
      };
    },
    async () => {
      await database?.dispose();
    },
  );
}

describe("countersign keys rotate without secrets", () => {
  it("refuses to rotate with freshly generated secrets, which cannot open stored keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-keys-rotate-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const run = await runCli(["keys", "rotate"], { COUNTERSIGN_ENV: "test", COUNTERSIGN_DATA_DIR: dir });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no secrets were configured/);
  });
});
