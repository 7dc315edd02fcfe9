import type { Queryable } from "../db/database.ts";
import type { ProblemLog } from "./audit-verify-report.ts";

/** The columns of audit_log that the database derives from the entry (migration 002). */
const GENERATED_COLUMNS = ["id", "occurred_at", "event_type", "user_id", "subject_type", "subject_id"];

/** Every trigger the audit log's guarantees rest on (migration 002), by table. */
const TRIGGERS: Readonly<Record<string, readonly string[]>> = {
  audit_log: ["audit_log_chain", "audit_log_write_once", "audit_log_write_once_truncate"],
  audit_chain_head: ["audit_chain_head_guard", "audit_chain_head_guard_truncate"],
  audit_merkle_nodes: ["audit_merkle_nodes_write_once", "audit_merkle_nodes_write_once_truncate"],
  audit_checkpoints: ["audit_checkpoints_write_once", "audit_checkpoints_write_once_truncate"],
  audit_anchors: ["audit_anchors_write_once", "audit_anchors_write_once_truncate"],
};

/**
 * Checks that the database still enforces what the audit log relies on: every write-once and
 * chain trigger exists and is enabled, and the query columns are still generated from the
 * entry. A superuser who switched one off and forgot (or did not) switch it back is reported,
 * even when every hash still verifies.
 */
export async function checkAuditSchema(q: Queryable, problems: ProblemLog): Promise<void> {
  const { rows: columns } = await q.query<{ name: string; generated: string }>(
    `SELECT attname AS name, attgenerated AS generated FROM pg_attribute
      WHERE attrelid = 'audit_log'::regclass AND attname = ANY($1::text[]) AND NOT attisdropped`,
    [GENERATED_COLUMNS],
  );
  for (const name of GENERATED_COLUMNS) {
    if (columns.find((column) => column.name === name)?.generated !== "s") {
      problems.add({
        kind: "schema",
        message: `audit_log.${name} is no longer generated from the entry: what it says cannot be trusted`,
      });
    }
  }
  const { rows: triggers } = await q.query<{ table: string; name: string; enabled: string }>(
    `SELECT c.relname AS table, t.tgname AS name, t.tgenabled AS enabled
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relname = ANY($1::text[]) AND NOT t.tgisinternal`,
    [Object.keys(TRIGGERS)],
  );
  for (const [table, names] of Object.entries(TRIGGERS)) {
    for (const name of names) {
      const trigger = triggers.find((t) => t.table === table && t.name === name);
      // 'O' fires normally, 'A' always; 'D' is disabled and 'R' fires only in replica mode.
      if (trigger === undefined || (trigger.enabled !== "O" && trigger.enabled !== "A")) {
        problems.add({
          kind: "schema",
          message: `the trigger ${name} on ${table} is ${trigger === undefined ? "missing" : "disabled"}: the log is not protected as it should be`,
        });
      }
    }
  }
}
