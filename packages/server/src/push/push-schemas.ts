import { Type } from "typebox";

const BASE64URL = "^[A-Za-z0-9_-]+$";

/**
 * A browser's `PushSubscription.toJSON()` (Push API §4.3): the endpoint and the RFC 8291 keys.
 * `p256dh` is the 65-byte uncompressed P-256 point (87 base64url characters), `auth` the 16-byte
 * secret (22 characters); both are checked further when stored.
 */
export const WebPushSubscriptionSchema = Type.Object(
  {
    endpoint: Type.String({ minLength: 9, maxLength: 2048, pattern: "^https://" }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    keys: Type.Object(
      {
        p256dh: Type.String({ minLength: 87, maxLength: 88, pattern: BASE64URL }),
        auth: Type.String({ minLength: 22, maxLength: 24, pattern: BASE64URL }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** A native app's device token (APNs hex token or FCM registration token). */
export const NativeSubscriptionSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal("apns"), Type.Literal("fcm")]),
    token: Type.String({ minLength: 16, maxLength: 4096, pattern: "^[A-Za-z0-9_:-]+$" }),
  },
  { additionalProperties: false },
);

/** `POST /v1/me/push/subscriptions`. */
export const SubscribeBodySchema = Type.Union([WebPushSubscriptionSchema, NativeSubscriptionSchema]);

/** `DELETE /v1/me/push/subscriptions`: the endpoint (Web Push) or the kind and token (native). */
export const UnsubscribeBodySchema = Type.Union([
  Type.Object({ endpoint: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false }),
  NativeSubscriptionSchema,
]);

/** A subscription as the person sees it: never its keys. */
export const SubscriptionViewSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal("webpush"), Type.Literal("apns"), Type.Literal("fcm")]),
  /** The Web Push endpoint, so a browser can tell whether it is its own; absent for native tokens. */
  endpoint: Type.Optional(Type.String()),
  created_at: Type.String({ format: "date-time" }),
  last_success_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  failure_count: Type.Integer({ minimum: 0 }),
  last_failure_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
});

export const SubscriptionListSchema = Type.Object({ subscriptions: Type.Array(SubscriptionViewSchema) });

export const VapidPublicKeySchema = Type.Object({
  /** base64url uncompressed P-256 point: pass to `pushManager.subscribe({ applicationServerKey })`. */
  public_key: Type.String(),
});
