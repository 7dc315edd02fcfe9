import webPush from "web-push";
import { createWebhookTransport, type WebhookTransport } from "../notify/webhooks/webhook-transport.ts";
import type { PushMessage, PushOutcome, PushSender, WebPushTarget } from "./push-message.ts";
import { remainingSeconds } from "./push-message.ts";
import { pushTopic } from "./push-topic.ts";

/** The application server's VAPID identity (RFC 8292). */
export interface VapidKeys {
  /** A `mailto:` or `https:` URI the push service can reach the operator at (RFC 8292 §2.1). */
  readonly subject: string;
  /** The uncompressed P-256 public key, base64url (65 bytes): the browser's `applicationServerKey`. */
  readonly publicKey: string;
  /** The P-256 private scalar, base64url (32 bytes). */
  readonly privateKey: string;
}

/** Options of {@link createWebPushSender}. */
export interface WebPushSenderOptions {
  readonly vapid: VapidKeys;
  readonly now: () => number;
  /** Per-attempt deadline: resolution, connection and response headers. */
  readonly timeoutMs: number;
  /** Accept loopback endpoints (development and tests only). */
  readonly allowLoopback: boolean;
  /** The transport; by default the webhook transport (vetted addresses, pinned connection). */
  readonly transport?: WebhookTransport;
  /** Extra trusted CA (PEM) for the default transport; tests only. */
  readonly ca?: string;
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and `aes128gcm` payload encryption (RFC 8291),
 * both from the `web-push` library's `generateRequestDetails` (its VAPID JWT expires 12 hours
 * after signing, under RFC 8292 §2's 24-hour ceiling). The request is then sent over the
 * webhook transport, because an endpoint is a URL a signed-in person supplied: its host is
 * resolved and vetted (public addresses only) and the connection pinned, as for callback URLs.
 *
 * Headers: `TTL` = seconds until the request expires (RFC 8030 §5.2), `Urgency: high`
 * (RFC 8030 §5.3: wake the device now), `Topic` = the request id (RFC 8030 §5.4).
 */
export function createWebPushSender(options: WebPushSenderOptions): PushSender<WebPushTarget> {
  const { vapid, now, timeoutMs } = options;
  const transport =
    options.transport ??
    createWebhookTransport({ allowLoopback: options.allowLoopback, ...(options.ca ? { ca: options.ca } : {}) });

  return async (target, message: PushMessage): Promise<PushOutcome> => {
    let url: URL;
    let details: ReturnType<typeof webPush.generateRequestDetails>;
    try {
      url = new URL(target.endpoint);
      details = webPush.generateRequestDetails(
        { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
        JSON.stringify(message.payload),
        {
          vapidDetails: {
            subject: vapid.subject,
            publicKey: vapid.publicKey,
            privateKey: vapid.privateKey,
          },
          TTL: remainingSeconds(message.expiresAt, now()),
          urgency: "high",
          topic: pushTopic(message.approvalId),
          // RFC 8291 §4 mandates aes128gcm; the older aesgcm draft encoding is never used.
          contentEncoding: "aes128gcm",
        },
      );
    } catch (error) {
      // Bad stored keys (not a P-256 point, wrong auth length): no retry will fix them.
      return { kind: "failed", reason: `cannot encrypt for this subscription: ${(error as Error).message}` };
    }
    const headers: Record<string, string> = { host: url.host };
    for (const [name, value] of Object.entries(details.headers)) headers[name.toLowerCase()] = String(value);
    const result = await transport({
      url,
      headers,
      body: details.body ?? new Uint8Array(0),
      timeoutMs,
    });
    if (!result.ok) return { kind: "retry", reason: result.error };
    return classifyWebPushStatus(result.status);
  };
}

/** RFC 8030 §5–§8 and the push services' practice: what a response status means for the subscription. */
export function classifyWebPushStatus(status: number): PushOutcome {
  if (status >= 200 && status < 300) return { kind: "delivered" };
  // RFC 8030 §7.3: 404 or 410 — the subscription expired or was removed; stop sending to it.
  if (status === 404 || status === 410) return { kind: "gone", reason: `push service answered ${status}` };
  // RFC 8030 §8.4 (429) and server errors are transient.
  if (status === 429 || status >= 500) return { kind: "retry", reason: `push service answered ${status}` };
  return { kind: "failed", reason: `push service answered ${status}` };
}
