import { randomBytes, toBase64Url } from "@countersign/protocol";
import type { Queryable } from "../../db/database.ts";
import { type WebhookApproval, webhookBody, webhookEventType } from "./webhook-payload.ts";

/** A new webhook delivery id: `whd_` and 128 random bits, base64url (22 characters). */
export function newWebhookDeliveryId(): string {
  return `whd_${toBase64Url(randomBytes(16))}`;
}

/**
 * Puts the webhook for an approval that has just reached a terminal state into the outbox,
 * inside the caller's transaction — the one that changes the state (transactional outbox): both
 * commit or neither does, so a decision is never reported without having happened, nor happens
 * without being reported. The dispatcher sends it after the commit; call `kick()` then so it
 * does not wait for its next poll.
 *
 * Call it only for requests that have a `callback_url`. A request reaches a terminal state once,
 * so it has at most one webhook: a second call for the same approval inserts nothing and returns
 * the first delivery's id.
 *
 * @returns the delivery id (`whd_…`), also the body's `delivery_id` and the `countersign-delivery` header.
 *
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   await decide(tx, request);
 *   if (request.callbackUrl !== null) await enqueueWebhook(tx, { ...approval }, new Date(clock.now()));
 * });
 * webhooks.kick();
 * ```
 */
export async function enqueueWebhook(tx: Queryable, approval: WebhookApproval, now: Date): Promise<string> {
  const id = newWebhookDeliveryId();
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO webhook_deliveries
       (id, approval_id, user_id, agent_id, url, event_type, body, status, attempts, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)
     ON CONFLICT (approval_id) DO NOTHING
     RETURNING id`,
    [
      id,
      approval.approvalId,
      approval.userId,
      approval.agentId,
      approval.callbackUrl,
      webhookEventType(approval.status),
      webhookBody(approval, id),
      now,
    ],
  );
  if (rows[0] !== undefined) return rows[0].id;
  const existing = await tx.query<{ id: string }>("SELECT id FROM webhook_deliveries WHERE approval_id = $1", [
    approval.approvalId,
  ]);
  const found = existing.rows[0];
  if (found === undefined) throw new Error("webhook delivery vanished between insert and read");
  return found.id;
}
