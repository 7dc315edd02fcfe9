import type { AuditSink, AuditSinkEvent } from "../accounts/audit-sink.ts";
import type { AgentAuditEvent, AgentAuditSink } from "../agent-auth/agent-audit-sink.ts";
import type { Queryable } from "../db/database.ts";
import type { JsonValue } from "./audit-event.ts";
import type { AuditLog } from "./audit-log.ts";

/**
 * The domains' audit port (accounts, passkeys, sessions, agents) over the real audit log: maps
 * their `{ kind, id }` actors and subjects to the log's `{ type, id }` and appends in the caller's
 * transaction, so an event exists exactly when the change it records committed. Context stays
 * context: the log encrypts it with the user's data key and refuses it for events with no user.
 */
export function createAuditSink(audit: AuditLog): AuditSink & AgentAuditSink {
  return {
    async append(tx: Queryable, event: AuditSinkEvent | AgentAuditEvent): Promise<void> {
      await audit.append(tx, {
        type: event.type,
        actor: { type: event.actor.kind, id: event.actor.id ?? null },
        subject: event.subject ? { type: event.subject.kind, id: event.subject.id } : null,
        userId: event.userId,
        context: event.context === undefined ? null : (event.context as { [key: string]: JsonValue }),
      });
    },
  };
}
