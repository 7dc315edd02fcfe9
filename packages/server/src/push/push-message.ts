/**
 * What every push adapter sends for one approval request: a small JSON payload and its delivery
 * hints. Built once per request by the notifier and handed to each subscription's adapter.
 */
export interface PushMessage {
  /** The approval request id, also the collapse key (Web Push `Topic`, APNs `apns-collapse-id`). */
  readonly approvalId: string;
  /** The JSON payload: see {@link PushPayload}. */
  readonly payload: PushPayload;
  /** When the request expires, in Unix milliseconds: after this the push is worthless. */
  readonly expiresAt: number;
}

/**
 * The notification content (issue 7 §3): enough to show "agent X asks to do Y" and open the
 * request. Never the context, the body or the number: the person reads and types those on the
 * request's screen, after signing in, and a push service or a lock screen sees none of it.
 */
export interface PushPayload {
  readonly type: "approval.created";
  readonly approval_id: string;
  readonly title: string;
  readonly agent_name: string;
  readonly action_type: string;
}

/** How one delivery attempt ended, in the terms the notifier acts on. */
export type PushOutcome =
  /** Accepted by the push service. */
  | { readonly kind: "delivered" }
  /** The subscription or device token is no longer valid (404/410, `Unregistered`, `BadDeviceToken`): delete it. */
  | { readonly kind: "gone"; readonly reason: string }
  /** Worth one more try later (429, 5xx, network trouble). */
  | { readonly kind: "retry"; readonly reason: string }
  /** Refused for a reason retrying will not fix (other 4xx); logged and counted. */
  | { readonly kind: "failed"; readonly reason: string };

/** A browser's Web Push subscription: the endpoint and the keys of RFC 8291 §2–3. */
export interface WebPushTarget {
  readonly kind: "webpush";
  readonly endpoint: string;
  /** The subscriber's P-256 public key, base64url (65 bytes uncompressed). */
  readonly p256dh: string;
  /** The subscriber's authentication secret, base64url (16 bytes). */
  readonly auth: string;
}

/** A native app's device token. */
export interface NativeTarget {
  readonly kind: "apns" | "fcm";
  readonly token: string;
}

/** Where one subscription points: a Web Push endpoint with its keys, or a native device token. */
export type PushTarget = WebPushTarget | NativeTarget;

/** Sends one message to one target. Never throws: every failure is an outcome. */
export type PushSender<T = PushTarget> = (target: T, message: PushMessage) => Promise<PushOutcome>;

/** Seconds from `now` until `expiresAt`, at least 0: the push's TTL (RFC 8030 §5.2). */
export function remainingSeconds(expiresAt: number, now: number): number {
  return Math.max(0, Math.floor((expiresAt - now) / 1000));
}
