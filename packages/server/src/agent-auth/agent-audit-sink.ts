import type { Queryable } from "../db/database.ts";

/**
 * One audit event of the agent domain (DESIGN §4.8), in the shape of the shared audit port:
 * ids, kinds and event names outside `context`; anything personal (addresses, names) inside it,
 * which the audit log encrypts with the user's data key. `context.auth_mode` is on every agent
 * event (DESIGN §4.2).
 */
export interface AgentAuditEvent {
  /** Dotted lower-case name, e.g. `agent.revoked`, `agent.request_refused`. */
  readonly type: string;
  /** The person the agent belongs to. */
  readonly userId: string | null;
  readonly actor: { readonly kind: "user" | "agent" | "system"; readonly id?: string };
  readonly subject?: { readonly kind: string; readonly id: string };
  readonly context?: Record<string, unknown>;
}

/**
 * The port through which the agent domain records audit events; `append` runs in the caller's
 * transaction (or on the database for a lone event), so an event is written if and only if what
 * it describes commits. The app's `auditSink` service implements it.
 */
export interface AgentAuditSink {
  append(tx: Queryable, event: AgentAuditEvent): Promise<void>;
}
