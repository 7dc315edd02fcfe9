import type { Transaction } from "../db/database.ts";
import type { ApprovalEventType } from "../notify/approval-event.ts";
import type { EventBus } from "../notify/event-bus.ts";
import type { WebhookService } from "../notify/webhooks/webhook-service.ts";
import { type ApprovalRow, isTerminal } from "./approval-row.ts";

/**
 * Where a change to an approval request goes besides its row and the audit log: the event bus
 * (SSE streams of the agent and of the person's devices) and, once decided, the agent's webhook.
 * Called inside the transaction that made the change: the webhook joins the transactional outbox
 * and commits with it; events are published only after the commit, so nobody re-reads an old row.
 */
export interface ApprovalNotifier {
  changed(tx: Transaction, row: ApprovalRow, type: ApprovalEventType): Promise<void>;
}

/**
 * Builds the notifier over the event bus, the webhook outbox and, when given, push notifications
 * (src/push, DESIGN §4.10): a new request is pushed to the person's devices after its commit, off
 * the request path, so a slow or failing push service never delays or fails the creation.
 */
export function createApprovalNotifier(deps: {
  bus: EventBus;
  webhooks: Pick<WebhookService, "enqueue" | "kick">;
  onError: (error: unknown) => void;
  push?: { approvalCreated(row: ApprovalRow): void };
}): ApprovalNotifier {
  const { bus, webhooks, onError, push } = deps;
  return Object.freeze({
    async changed(tx: Transaction, row: ApprovalRow, type: ApprovalEventType) {
      if (push !== undefined && type === "approval.created") tx.afterCommit(() => push.approvalCreated(row));
      if (row.callback_url !== null && isTerminal(row.status) && row.decided_at !== null) {
        await webhooks.enqueue(tx, {
          approvalId: row.id,
          userId: row.user_id,
          agentId: row.agent_id,
          status: row.status,
          reason: row.reason,
          actionType: row.action_type,
          displayPayloadHash: row.display_payload_hash,
          decidedAt: row.decided_at,
          receipt: row.receipt,
          callbackUrl: row.callback_url,
        });
        tx.afterCommit(() => webhooks.kick());
      }
      const event = {
        type,
        approvalId: row.id,
        userId: row.user_id,
        agentId: row.agent_id,
        status: row.status,
        at: (row.decided_at ?? row.delivered_at ?? row.created_at).getTime(),
      };
      tx.afterCommit(() => {
        bus.publish(event).catch(onError);
      });
    },
  });
}
