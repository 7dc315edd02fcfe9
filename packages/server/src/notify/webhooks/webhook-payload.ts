/** The terminal states of an approval request (DESIGN §4.4), each of which sends one webhook. */
export type TerminalApprovalStatus = "approved" | "rejected" | "expired" | "canceled";

/** The `type` of a webhook, and its `countersign-event` header. */
export type WebhookEventType = `approval.${TerminalApprovalStatus}`;

const TERMINAL: ReadonlySet<string> = new Set<TerminalApprovalStatus>(["approved", "rejected", "expired", "canceled"]);

/** What a webhook reports: an approval request that has just reached a terminal state. */
export interface WebhookApproval {
  /** `apr_…` */
  readonly approvalId: string;
  /** The owner; kept on the outbox row (DESIGN §3: hot tables carry the user id). */
  readonly userId: string;
  /** The agent that asked; the webhook goes to the callback URL it gave. */
  readonly agentId: string;
  /**
   * The terminal state reached: `approved`, `rejected`, `expired` or `canceled` (typed as the
   * approval row's status; anything else is refused with a TypeError when enqueued).
   */
  readonly status: string;
  /** Why it ended other than by a plain decision (`number_mismatch`, `expired`, …), or null. */
  readonly reason: string | null;
  readonly actionType: string;
  /**
   * `sha256:<hex>` (DESIGN §4.5). Null for an end-to-end request that ended without the person's
   * decision (expired, canceled, three wrong numbers): the server cannot hash its context.
   */
  readonly displayPayloadHash: string | null;
  readonly decidedAt: Date;
  /** The receipt, a compact JWS (DESIGN §4.7), when approved; null otherwise. */
  readonly receipt: string | null;
  /** The request's `callback_url`, as validated at creation by `parseCallbackUrl`. */
  readonly callbackUrl: string;
}

/** The JSON body of a webhook, field for field (see docs/webhooks.md). */
export interface WebhookBody {
  type: WebhookEventType;
  approval_id: string;
  status: TerminalApprovalStatus;
  reason: string | null;
  action_type: string;
  display_payload_hash: string | null;
  decided_at: string;
  receipt?: string;
  delivery_id: string;
}

/** The event type for a status; throws a TypeError for a status that is not terminal. */
export function webhookEventType(status: string): WebhookEventType {
  if (!TERMINAL.has(status)) throw new TypeError("webhooks report terminal approval states only");
  return `approval.${status as TerminalApprovalStatus}`;
}

/**
 * Serializes a webhook's body, once: the string is stored and every attempt sends these exact
 * bytes, so the Content-Digest and the receiver's view never change between retries. `receipt`
 * is present only on `approval.approved`, and then required.
 *
 * @example
 * ```ts
 * webhookBody(approval, "whd_…");
 * // {"type":"approval.approved","approval_id":"apr_…","status":"approved","reason":null,…}
 * ```
 */
export function webhookBody(approval: WebhookApproval, deliveryId: string): string {
  const type = webhookEventType(approval.status);
  if ((approval.status === "approved") !== (approval.receipt !== null)) {
    throw new TypeError("an approved request carries a receipt, and only an approved one");
  }
  if (!Number.isFinite(approval.decidedAt.getTime())) throw new TypeError("decidedAt must be a valid date");
  const body: WebhookBody = {
    type,
    approval_id: approval.approvalId,
    status: approval.status as TerminalApprovalStatus,
    reason: approval.reason,
    action_type: approval.actionType,
    display_payload_hash: approval.displayPayloadHash,
    decided_at: approval.decidedAt.toISOString(),
    ...(approval.receipt === null ? {} : { receipt: approval.receipt }),
    delivery_id: deliveryId,
  };
  return JSON.stringify(body);
}
