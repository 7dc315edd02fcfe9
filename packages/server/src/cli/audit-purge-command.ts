import { parseArgs } from "node:util";
import { createAuditLog } from "../audit/audit-log.ts";
import { createAuditLogSigner } from "../audit/audit-log-signer.ts";
import { purgeAuditLog } from "../audit/purge-audit-log.ts";
import { systemClock } from "../clock.ts";
import { loadConfig } from "../config/load-config.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys } from "../crypto/user-data-keys.ts";
import type { CliCommand } from "./cli-command.ts";
import { withAuditDatabase } from "./with-audit-database.ts";

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * `countersign audit purge`: the retention job. Removes the prefix of entries before `--before`
 * (or before now minus COUNTERSIGN_AUDIT_RETENTION_DAYS), leaving an anchor so the rest verifies.
 * Needs the database owner's DATABASE_URL: the application role may not delete.
 */
export const auditPurgeCommand: CliCommand = {
  name: "audit purge",
  usage: "audit purge [--before DATE] [--dry-run]",
  summary: "Remove audit entries before DATE (default: the retention period), keeping the rest verifiable",
  async run(args, env) {
    const { values } = parseArgs({
      args: [...args],
      options: { before: { type: "string" }, "dry-run": { type: "boolean", default: false } },
      strict: true,
    });
    const config = loadConfig(env);
    const now = systemClock.now();
    let before: Date;
    if (values.before !== undefined) {
      const parsed = parseBefore(values.before);
      if (parsed === null) {
        console.error("countersign: --before must be a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)");
        return 2;
      }
      if (parsed.getTime() > now) {
        console.error("countersign: --before is in the future; refusing to purge entries that are not old yet");
        return 2;
      }
      before = parsed;
    } else if (config.audit.retentionDays !== undefined) {
      before = new Date(now - config.audit.retentionDays * DAY_MS);
    } else {
      console.error(
        "countersign: nothing to purge by: pass --before DATE or set COUNTERSIGN_AUDIT_RETENTION_DAYS (entries are kept forever by default)",
      );
      return 2;
    }
    const signer = await createAuditLogSigner(config);
    const audit = createAuditLog({ dataKeys: createUserDataKeys(createKeyRingFromConfig(config)) });
    const policy = { everyEntries: config.audit.checkpointEntries, everySeconds: config.audit.checkpointSeconds };
    const dryRun = values["dry-run"];
    const outcome = await withAuditDatabase(config, (db) =>
      purgeAuditLog(db, { before, audit, signer, policy, dryRun }),
    );
    if (outcome.removed === 0) {
      console.log(`Nothing to purge: no signed entry precedes the first entry at or after ${before.toISOString()}.`);
    } else if (dryRun) {
      console.log(`Would remove entries ${outcome.from} … ${(outcome.keptFrom as number) - 1} (${outcome.removed}).`);
    } else {
      console.log(
        `Removed entries ${outcome.from} … ${(outcome.keptFrom as number) - 1} (${outcome.removed}); ` +
          `verification now starts at the anchor at seq ${outcome.keptFrom}. Recorded as audit event ${outcome.eventSeq}.`,
      );
    }
    return 0;
  },
};

function parseBefore(text: string): Date | null {
  if (!DATE.test(text) && !TIMESTAMP.test(text)) return null;
  const date = new Date(DATE.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(date.getTime()) ? null : date;
}
