import { importEd25519PrivateJwk, type RequestSigner, signRequest } from "@countersign/protocol";
import type { SigningJwk } from "../../config/config.ts";
import type { WebhookEventType } from "./webhook-payload.ts";

/** The `user-agent` of every webhook. */
export const WEBHOOK_USER_AGENT = "Countersign-Webhook/1";

/** What one attempt signs. */
export interface WebhookToSign {
  /** The normalized callback URL. */
  readonly url: URL;
  /** The stored body bytes. */
  readonly body: Uint8Array;
  readonly deliveryId: string;
  readonly eventType: WebhookEventType;
  /** Signing time in Unix seconds: the signature's `created`. */
  readonly created: number;
}

/** Signs webhook attempts with the server's key. */
export interface WebhookSigner {
  /** The key id receivers find in the JWKS (`keyid` of every signature). */
  readonly keyId: string;
  /** Every header an attempt sends, lowercase names, `host` included. */
  headers(webhook: WebhookToSign): Promise<Record<string, string>>;
}

/**
 * Signs webhooks under the same RFC 9421 profile agents sign their requests with (DESIGN §4.1),
 * with the server's current signing key (`config.secrets.signingKeys[0]`, published in the JWKS
 * with the others), so a receiver verifies them with `verifyRequest` from @countersign/protocol
 * and the JWKS key whose `kid` is the signature's `keyid`. The private key is imported once, on
 * first use, and cached as a non-extractable CryptoKey.
 *
 * Covered (the profile's fixed set, RFC 9421 §2.2 and §2.1): `@method @authority @path @query
 * content-digest idempotency-key`. The body carries `type` and `delivery_id`, and the Content-
 * Digest (RFC 9530 §2) binds the body; the delivery id is also sent as `idempotency-key`, so
 * the profile covers it in the signature itself. `countersign-delivery` and `countersign-event`
 * are conveniences for routing before verification and are not covered: trust the body.
 *
 * Each attempt is signed afresh (`created` and a new 128-bit `nonce`), so a retry hours later
 * still fits the receiver's ±300 s window, while the body — and its digest — never change.
 */
export function createWebhookSigner(signingKey: SigningJwk): WebhookSigner {
  if (typeof signingKey?.kid !== "string" || signingKey.kid === "") {
    throw new TypeError("the webhook signing key needs a kid");
  }
  let signer: Promise<RequestSigner> | undefined;
  const loadSigner = (): Promise<RequestSigner> => {
    signer ??= importEd25519PrivateJwk(signingKey).then((privateKey) => ({ keyId: signingKey.kid, privateKey }));
    // A failed import is not cached, so a transient failure does not poison every later attempt.
    signer.catch(() => {
      signer = undefined;
    });
    return signer;
  };

  return {
    keyId: signingKey.kid,
    async headers(webhook) {
      const { url } = webhook;
      const headers: Record<string, string> = {
        host: url.host,
        "content-type": "application/json",
        "user-agent": WEBHOOK_USER_AGENT,
        "countersign-delivery": webhook.deliveryId,
        "countersign-event": webhook.eventType,
        "idempotency-key": webhook.deliveryId,
      };
      const added = await signRequest(
        {
          method: "POST",
          // RFC 9421 §2.2.3: the authority the request is sent to — the Host header above.
          authority: url.host,
          path: url.pathname,
          query: url.search,
          scheme: url.protocol.slice(0, -1),
          headers,
          body: webhook.body,
        },
        await loadSigner(),
        { created: webhook.created },
      );
      return { ...headers, ...added };
    },
  };
}
