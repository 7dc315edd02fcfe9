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

/** Builds the notifier over the event bus and the webhook outbox. */
export function createApprovalNotifier(deps: {
  bus: EventBus;
  webhooks: Pick<WebhookService, "enqueue" | "kick">;
  onError: (error: unknown) => void;
}): ApprovalNotifier {
  const { bus, webhooks, onError } = deps;
  return Object.freeze({
    async changed(tx: Transaction, row: ApprovalRow, type: ApprovalEventType) {
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
