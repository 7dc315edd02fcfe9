import type { Transaction } from "../db/database.ts";

/** Why an agent's in-flight approval requests are being canceled. */
export type InFlightCancelReason = "agent_revoked" | "credentials_rotated" | "agent_suspended";

/**
 * The port through which the agent domain cancels an agent's pending and delivered approval
 * requests when it is revoked, rotated or suspended (DESIGN §4.3, T-2). It runs in the caller's
 * transaction, so the cancellation commits with the change that caused it. The approvals domain
 * implements it (src/approvals/approval-service.ts).
 */
export interface InFlightApprovals {
  /** Moves the agent's in-flight requests to `canceled`; returns how many. */
  cancelForAgent(tx: Transaction, agentId: string, reason: InFlightCancelReason): Promise<number>;
}
