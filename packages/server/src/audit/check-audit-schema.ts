import type { Queryable } from "../db/database.ts";
import type { ProblemLog } from "./audit-verify-report.ts";

/** Every trigger the audit log's guarantees rest on (migrations 002 and 015), by table. */
const TRIGGERS: Readonly<Record<string, readonly string[]>> = {
  audit_log: ["audit_log_chain", "audit_log_write_once", "audit_log_write_once_truncate"],
  audit_chain_head: ["audit_chain_head_guard", "audit_chain_head_guard_truncate"],
  audit_merkle_nodes: ["audit_merkle_nodes_write_once", "audit_merkle_nodes_write_once_truncate"],
  audit_checkpoints: ["audit_checkpoints_write_once", "audit_checkpoints_write_once_truncate"],
  audit_anchors: ["audit_anchors_write_once", "audit_anchors_write_once_truncate"],
};

/** The CHECK constraint that holds audit_log's query columns to the entry (migration 015). */
const COLUMNS_CONSTRAINT = "audit_log_query_columns";

/**
 * Checks that the database still enforces what the audit log relies on: every write-once and
 * chain trigger exists and is enabled, and the constraint that holds the query columns to the
 * entry exists and has been validated (a constraint re-added NOT VALID would leave rows changed
 * meanwhile unchecked). A superuser who switched one off and forgot (or did not) switch it back
 * is reported, even when every hash still verifies.
 */
export async function checkAuditSchema(q: Queryable, problems: ProblemLog): Promise<void> {
  const { rows: constraints } = await q.query<{ validated: boolean }>(
    `SELECT convalidated AS validated FROM pg_constraint
      WHERE conrelid = 'audit_log'::regclass AND conname = $1 AND contype = 'c'`,
    [COLUMNS_CONSTRAINT],
  );
  const constraint = constraints[0];
  if (constraint === undefined || !constraint.validated) {
    problems.add({
      kind: "schema",
      message: `the constraint ${COLUMNS_CONSTRAINT} on audit_log is ${constraint === undefined ? "missing" : "not validated"}: what the query columns say cannot be trusted`,
    });
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
