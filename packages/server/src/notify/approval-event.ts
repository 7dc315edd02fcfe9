import { APPROVAL_STATUSES, type ApprovalStatus } from "@countersign/protocol";

/** What an {@link ApprovalEvent} announces: a request was created, or its state changed. */
export type ApprovalEventType = "approval.created" | "approval.updated";

/**
 * A committed change of one approval request, sent between server processes and to SSE
 * subscribers. It is a hint, not the record: notifications can be lost (a dropped LISTEN
 * connection) and arrive late, so a subscriber re-reads the row before acting on it.
 */
export interface ApprovalEvent {
  readonly type: ApprovalEventType;
  /** `apr_` and 22 base64url characters. */
  readonly approvalId: string;
  /** The approver who owns the request, `usr_…`. */
  readonly userId: string;
  /** The agent that asked, `agt_…`. */
  readonly agentId: string;
  /** The request's state after the change. */
  readonly status: ApprovalStatus;
  /** When the change happened, in milliseconds since the epoch. */
  readonly at: number;
}

/** An approval request id: `apr_` and 16 random bytes in base64url. */
export const APPROVAL_ID_PATTERN = /^apr_[A-Za-z0-9_-]{22}$/;
/** An account id: `usr_` and 16 random bytes in base64url (src/accounts/user-store.ts). */
export const USER_ID_PATTERN = /^usr_[A-Za-z0-9_-]{22}$/;
/** An agent id: `agt_` and 16 random bytes in base64url (src/agents/agent-lifecycle.ts). */
export const AGENT_ID_PATTERN = /^agt_[A-Za-z0-9_-]{22}$/;

const TYPES: ReadonlySet<unknown> = new Set<ApprovalEventType>(["approval.created", "approval.updated"]);
const STATUSES: ReadonlySet<unknown> = new Set<unknown>(APPROVAL_STATUSES);

function matches(value: unknown, pattern: RegExp): value is string {
  return typeof value === "string" && pattern.test(value);
}

/**
 * Checks a decoded value field by field and returns a fresh event holding only the known
 * fields, or `null` when any field is missing or malformed. Payloads arrive over NOTIFY, which
 * any role allowed to connect can send on any channel, so nothing is trusted for its shape.
 * Unknown fields are dropped rather than refused, so a process of the next version can add one
 * during a rolling deploy without its events being thrown away by the older processes.
 */
export function parseApprovalEvent(json: unknown): ApprovalEvent | null {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return null;
  const { type, approvalId, userId, agentId, status, at } = json as Record<string, unknown>;
  if (!TYPES.has(type) || !STATUSES.has(status)) return null;
  if (!matches(approvalId, APPROVAL_ID_PATTERN) || !matches(userId, USER_ID_PATTERN)) return null;
  if (!matches(agentId, AGENT_ID_PATTERN)) return null;
  if (typeof at !== "number" || !Number.isSafeInteger(at) || at < 0) return null;
  return {
    type: type as ApprovalEventType,
    approvalId,
    userId,
    agentId,
    status: status as ApprovalStatus,
    at,
  };
}
