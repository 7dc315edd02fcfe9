import { CountersignError, fromUtf8, utf8, verifyRequest } from "@countersign/protocol";
import { type JwksSource, jwksKeyResolver } from "../receipts/jwks-key-set.ts";

/**
 * A received webhook, when it is not a Fetch API `Request` (from `node:http`, say).
 *
 * @example
 * ```ts
 * const event = await verifyWebhook({ method: req.method, url: req.url, headers: req.headers, body: rawBody }, { jwksUrl });
 * ```
 */
export interface WebhookRequestLike {
  readonly method: string;
  /** The URL as registered (absolute), or the request target (`/hook?x=1`) together with a `host` header. */
  readonly url: string | URL;
  readonly headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The raw body bytes, exactly as received. */
  readonly body: Uint8Array | string;
}

/**
 * Options of {@link verifyWebhook}.
 *
 * @example
 * ```ts
 * await verifyWebhook(request, { jwksUrl, authority: "hooks.example.com" });
 * ```
 */
export interface VerifyWebhookOptions extends JwksSource {
  /**
   * The authority (host and port) of the callback URL you registered. The signature covers the
   * authority Countersign connected to, so behind a proxy that rewrites `Host` pass it here.
   */
  readonly authority?: string;
  /** The current time in Unix seconds; the system clock by default. */
  readonly now?: number;
  /** How far the signature's `created` may be from `now`; 300 s by default. */
  readonly maxSkewSeconds?: number;
}

/**
 * A verified webhook: the body of docs/webhooks.md, typed.
 *
 * @example
 * ```ts
 * const event: WebhookEvent = await verifyWebhook(request, { jwksUrl });
 * if (event.type === "approval.approved") await act(event.approvalId, event.receipt);
 * ```
 */
export interface WebhookEvent {
  readonly type: "approval.approved" | "approval.rejected" | "approval.expired" | "approval.canceled";
  readonly approvalId: string;
  readonly status: "approved" | "rejected" | "expired" | "canceled";
  readonly reason: string | null;
  readonly actionType: string;
  /**
   * `sha256:<hex>`; null for an end-to-end request that ended without the person's decision
   * (expired, canceled, three wrong numbers): the server cannot hash its context.
   */
  readonly displayPayloadHash: string | null;
  readonly decidedAt: Date;
  /** The receipt on `approval.approved`; verify it with `verifyReceipt` before acting. */
  readonly receipt: string | null;
  /** `whd_…`, the same on every retry: deduplicate on it. */
  readonly deliveryId: string;
  /** The signature's nonce and key id, for receivers that also remember `(keyid, nonce)`. */
  readonly signature: { readonly keyId: string; readonly nonce: string; readonly created: number };
}

/**
 * Verifies a webhook from Countersign (docs/webhooks.md): the Content-Digest over the raw body,
 * the RFC 9421 signature (`@method @authority @path @query content-digest idempotency-key`) with
 * the JWKS key named by `keyid`, and the ±300 s window; then parses the body. Deduplicate on
 * `deliveryId` afterwards, and verify `receipt` before acting on an approval.
 *
 * @throws CountersignError `digest_mismatch`, `signature_missing`, `invalid_signature`,
 *   `signature_expired`; `invalid_request` for a body that is not a Countersign event;
 *   `service_unavailable` when the JWKS cannot be fetched.
 *
 * @example
 * ```ts
 * // In any Fetch API server (Hono, Bun, Deno, Workers):
 * const event = await verifyWebhook(request, { jwksUrl: "https://countersign.example/.well-known/jwks.json" });
 * if (!(await seen(event.deliveryId))) await handle(event);
 * return new Response(null, { status: 204 });
 * ```
 */
export async function verifyWebhook(
  request: Request | WebhookRequestLike,
  options: VerifyWebhookOptions,
): Promise<WebhookEvent> {
  const resolve = jwksKeyResolver(options);
  const headers = lowercaseHeaders(request.headers);
  const body =
    request instanceof Request
      ? new Uint8Array(await request.arrayBuffer())
      : typeof request.body === "string"
        ? utf8(request.body)
        : request.body;
  const url = new URL(String(request.url), `http://${headers.host ?? "invalid.invalid"}`);
  const result = await verifyRequest(
    {
      method: request.method,
      authority: options.authority ?? url.host,
      path: url.pathname,
      query: url.search,
      headers,
      body,
    },
    {
      resolveKey: (kid) => resolve({ alg: "EdDSA", kid }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.maxSkewSeconds === undefined ? {} : { maxSkewSeconds: options.maxSkewSeconds }),
    },
  );
  if (!result.ok) throw new CountersignError(result.code);
  return parseEvent(body, { keyId: result.keyid, nonce: result.nonce, created: result.created });
}

function lowercaseHeaders(headers: WebhookRequestLike["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = typeof value === "string" ? value : value.join(", ");
  }
  return out;
}

const TYPES = new Set(["approval.approved", "approval.rejected", "approval.expired", "approval.canceled"]);

function parseEvent(body: Uint8Array, signature: WebhookEvent["signature"]): WebhookEvent {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fromUtf8(body));
  } catch (error) {
    throw new CountersignError("invalid_request", { message: "The webhook body is not JSON.", cause: error });
  }
  const decidedAt = new Date(typeof json.decided_at === "string" ? json.decided_at : Number.NaN);
  if (
    typeof json !== "object" ||
    json === null ||
    typeof json.type !== "string" ||
    !TYPES.has(json.type) ||
    json.status !== json.type.slice("approval.".length) ||
    typeof json.approval_id !== "string" ||
    typeof json.action_type !== "string" ||
    (typeof json.display_payload_hash !== "string" &&
      !(json.display_payload_hash === null && json.type !== "approval.approved")) ||
    typeof json.delivery_id !== "string" ||
    Number.isNaN(decidedAt.getTime()) ||
    (json.type === "approval.approved" && typeof json.receipt !== "string")
  ) {
    throw new CountersignError("invalid_request", { message: "The webhook body is not a Countersign event." });
  }
  return {
    type: json.type as WebhookEvent["type"],
    approvalId: json.approval_id,
    status: json.status as WebhookEvent["status"],
    reason: typeof json.reason === "string" ? json.reason : null,
    actionType: json.action_type,
    displayPayloadHash: json.display_payload_hash,
    decidedAt,
    receipt: typeof json.receipt === "string" ? json.receipt : null,
    deliveryId: json.delivery_id,
    signature,
  };
}
