import type { AuditActor, AuditEvent, JsonValue } from "../audit/audit-event.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { Queryable } from "../db/database.ts";
import type { ApprovalRow } from "./approval-row.ts";

/** The approval lifecycle's audit events (DESIGN §4.8). */
export type ApprovalAuditType =
  | "approval.created"
  | "approval.delivered"
  | "approval.number_mismatch"
  | "approval.approved"
  | "approval.rejected"
  | "approval.expired"
  | "approval.canceled";

/**
 * Appends one approval event in the caller's transaction — call it last, just before the commit
 * (the chain lock is held until then). The plaintext part carries only ids, the state, the action
 * type, the auth mode and the display hash; addresses, user agents, what was asked and the
 * decision evidence go in `context`, sealed with the owner's data key (T-5).
 */
export async function auditApproval(audit: AuditLog, tx: Queryable, event: ApprovalAuditInput): Promise<void> {
  await audit.append(tx, approvalAuditEvent(event));
}

/** What an approval audit event is made of. */
export interface ApprovalAuditInput {
  readonly type: ApprovalAuditType;
  readonly row: ApprovalRow;
  readonly actor: AuditActor;
  readonly requestId: string | null;
  readonly details?: Record<string, JsonValue>;
  readonly context?: Record<string, JsonValue>;
}

/** The audit event of {@link auditApproval}, for work that appends in a group (grouped-audit-transactions.ts). */
export function approvalAuditEvent(event: ApprovalAuditInput): AuditEvent {
  const { row } = event;
  return {
    type: event.type,
    actor: event.actor,
    subject: { type: "approval", id: row.id },
    userId: row.user_id,
    requestId: event.requestId,
    details: {
      agent_id: row.agent_id,
      auth_mode: row.auth_mode,
      action_type: row.action_type,
      status: row.status,
      reason: row.reason,
      display_payload_hash: row.display_payload_hash,
      ...event.details,
    },
    ...(event.context === undefined ? {} : { context: event.context }),
  };
}
