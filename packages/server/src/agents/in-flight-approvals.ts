import type { Queryable } from "../db/database.ts";

/** Why an agent's in-flight approval requests are being canceled. */
export type InFlightCancelReason = "agent_revoked" | "credentials_rotated" | "agent_suspended";

/**
 * The port through which the agent domain cancels an agent's pending and delivered approval
 * requests when it is revoked, rotated or suspended (DESIGN §4.3, T-2). It runs in the caller's
 * transaction, so the cancellation commits with the change that caused it. The approvals domain
 * implements it.
 */
export interface InFlightApprovals {
  /** Moves the agent's in-flight requests to `canceled`; returns how many. */
  cancelForAgent(tx: Queryable, agentId: string, reason: InFlightCancelReason): Promise<number>;
}

/**
 * PLACEHOLDER until approvals exist (the next issue): there are no approval requests yet, so
 * there is nothing to cancel and it returns 0. The approvals domain replaces it in AppServices.
 */
export const placeholderInFlightApprovals: InFlightApprovals = Object.freeze({
  async cancelForAgent(_tx: Queryable, _agentId: string, _reason: InFlightCancelReason): Promise<number> {
    return 0;
  },
});
