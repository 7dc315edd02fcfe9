import { parseArgs } from "node:util";
import { loadConfig } from "../config/load-config.ts";
import { countDataKeysByKek } from "../crypto/count-data-keys-by-kek.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys, MAX_ROTATE_BATCH_SIZE } from "../crypto/user-data-keys.ts";
import { MIGRATIONS_DIR, migrationStatus } from "../db/migrate.ts";
import { openDatabase } from "../db/open-database.ts";
import type { CliCommand } from "./cli-command.ts";

// Failed user ids listed in the summary; the rest are counted.
const MAX_LISTED_FAILURES = 50;
// Progress goes to stderr at most this often, so a large rotation shows it is alive.
const PROGRESS_EVERY = 10_000;

/**
 * `countersign keys rotate`: re-wraps every user data key under the current key-encryption key
 * (DESIGN §4.9; the operator procedure is in docs/security.md). The server keeps running on
 * PostgreSQL: each batch is a short transaction that skips keys in use, and servers whose ring
 * holds both KEKs read keys wrapped by either. Exits 1 when a key could not be re-wrapped or
 * keys remain under an older KEK, so the old KEK must stay in the ring.
 */
export const keysRotateCommand: CliCommand = {
  name: "keys rotate",
  usage: "keys rotate [--batch-size N]",
  summary: "Re-wrap every user data key under the current key-encryption key",
  async run(args, env) {
    const { values } = parseArgs({ args: [...args], options: { "batch-size": { type: "string" } }, strict: true });
    const batchSize = values["batch-size"] === undefined ? undefined : Number(values["batch-size"]);
    if (
      batchSize !== undefined &&
      (!/^\d+$/.test(values["batch-size"] ?? "") || batchSize < 1 || batchSize > MAX_ROTATE_BATCH_SIZE)
    ) {
      console.error(`countersign: --batch-size must be an integer from 1 to ${MAX_ROTATE_BATCH_SIZE}`);
      return 2;
    }

    const config = loadConfig(env);
    if (config.secrets.source === "generated") {
      // A fresh ring cannot unwrap anything that is already stored; say so rather than report
      // every key as failed.
      console.error(
        `countersign: no secrets were configured, so fresh ones were just generated in ${config.secrets.file}; ` +
          "run with the secrets the server uses (COUNTERSIGN_SECRETS_FILE or the COUNTERSIGN_* variables)",
      );
      return 1;
    }
    const ring = createKeyRingFromConfig(config);
    const db = await openDatabase({
      ...(config.database.kind === "postgres" ? { databaseUrl: config.database.url, poolSize: 2 } : {}),
      dataDir: config.dataDir,
    });
    try {
      const status = await migrationStatus(db, MIGRATIONS_DIR);
      if (status.problems.length > 0 || status.pending.length > 0) {
        console.error("countersign: the database schema is not up to date: run `countersign migrate` first");
        return 1;
      }
      const current = ring.currentKid;
      const alreadyCurrent = (await countDataKeysByKek(db)).get(current) ?? 0;
      let reported = 0;
      const { rewrapped, failed } = await createUserDataKeys(ring).rotate(db, {
        ...(batchSize === undefined ? {} : { batchSize }),
        onProgress(done) {
          if (done - reported >= PROGRESS_EVERY) {
            reported = done;
            console.error(`… ${done} data keys handled`);
          }
        },
      });

      const listed = failed.slice(0, MAX_LISTED_FAILURES).join(", ");
      const more = failed.length > MAX_LISTED_FAILURES ? ` and ${failed.length - MAX_LISTED_FAILURES} more` : "";
      console.log(
        `Re-wrapped ${rewrapped} data ${plural(rewrapped)} under ${current}; ${alreadyCurrent} already current; ` +
          `${failed.length} failed${failed.length > 0 ? `: ${listed}${more}` : "."}`,
      );

      const older = [...(await countDataKeysByKek(db))].filter(([kekId]) => kekId !== current);
      const stillOlder = older.reduce((sum, [, count]) => sum + count, 0);
      if (failed.length > 0) {
        console.error(
          "Failed keys are wrapped by a KEK missing from the ring, or their rows are damaged; " +
            "keep every older KEK in the ring and look into them before removing any.",
        );
      }
      if (older.length > 0) {
        const list = older
          .map(([kekId, count]) => `${kekId} (${count}${ring.has(kekId) ? "" : ", not in the key ring"})`)
          .join(", ");
        console.log(`Still wrapped by older KEKs: ${list}.`);
      }
      if (stillOlder > failed.length) {
        // Keys created while rotating by a server still running with the old key as current.
        console.error(
          "Some data keys were created under an older KEK while rotating: restart every server with the new key ring, then run this again.",
        );
      }
      if (stillOlder === 0) {
        const removable = ring.kids.filter((kid) => kid !== current);
        console.log(
          removable.length === 0
            ? "No older KEK is in the key ring."
            : `No data key uses ${removable.join(", ")} any more; once every server runs with ${current} as the current key, remove ${removable.length === 1 ? "it" : "them"} from the key ring.`,
        );
      }
      return stillOlder === 0 && failed.length === 0 ? 0 : 1;
    } finally {
      await db.close();
    }
  },
};

function plural(count: number): string {
  return count === 1 ? "key" : "keys";
}
