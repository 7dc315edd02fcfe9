import { ECDH } from "node:crypto";
import { CountersignError } from "@countersign/protocol";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AppServices } from "../app-services.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import type { PushTarget } from "./push-message.ts";
import {
  SubscribeBodySchema,
  SubscriptionListSchema,
  SubscriptionViewSchema,
  UnsubscribeBodySchema,
  VapidPublicKeySchema,
} from "./push-schemas.ts";
import type { PushSubscriptionRow } from "./push-subscription-store.ts";

const ErrorRef = { $ref: "ErrorBody#" };
/** Subscriptions per person: bounds the fan-out of one request. */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

const view = (row: PushSubscriptionRow) => ({
  id: row.id,
  kind: row.target.kind,
  ...(row.target.kind === "webpush" ? { endpoint: row.target.endpoint } : {}),
  created_at: row.createdAt.toISOString(),
  last_success_at: row.lastSuccessAt?.toISOString() ?? null,
  failure_count: row.failureCount,
  last_failure_at: row.lastFailureAt?.toISOString() ?? null,
});

/**
 * The person's push subscriptions (issue 7 §3–4), on the app surface with a session:
 * the VAPID key to subscribe with, and subscribe, list, unsubscribe.
 */
export function registerPushRoutes(app: FastifyInstance, services: Pick<AppServices, "db" | "push">): void {
  const { db, push } = services;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onClose", async () => push.close());

  typed.get(
    "/v1/me/push/vapid-public-key",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["push"],
        summary: "The VAPID public key to subscribe to Web Push with (RFC 8292 §3.2)",
        response: { 200: VapidPublicKeySchema, 401: ErrorRef, 404: ErrorRef },
      },
    },
    async () => {
      if (push.vapidPublicKey === undefined) throw new CountersignError("push_not_configured");
      return { public_key: push.vapidPublicKey };
    },
  );

  typed.get(
    "/v1/me/push/subscriptions",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["push"],
        summary: "Your push subscriptions",
        response: { 200: SubscriptionListSchema, 401: ErrorRef },
      },
    },
    async (request) => {
      const rows = await push.subscriptions.listForUser(db, currentSession(request).userId);
      return { subscriptions: rows.map(view) };
    },
  );

  typed.post(
    "/v1/me/push/subscriptions",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["push"],
        summary: "Subscribe this browser (its PushSubscription JSON) or a native app's device token",
        body: SubscribeBodySchema,
        response: {
          200: SubscriptionViewSchema,
          201: SubscriptionViewSchema,
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
          404: ErrorRef,
          409: ErrorRef,
        },
      },
    },
    async (request, reply) => {
      const { userId, deviceId } = currentSession(request);
      const target = toTarget(request.body);
      if (!push.kinds.has(target.kind)) throw new CountersignError("push_not_configured");
      const saved = await db.transaction(async (tx) => {
        const existing = await push.subscriptions.listForUser(tx, userId);
        const same = existing.some((s) => sameTarget(s.target, target));
        if (!same && existing.length >= MAX_SUBSCRIPTIONS_PER_USER) {
          throw new CountersignError("push_subscription_limit");
        }
        return push.subscriptions.save(tx, userId, target, deviceId);
      });
      reply.code(saved.created ? 201 : 200);
      return view(saved.row);
    },
  );

  typed.delete(
    "/v1/me/push/subscriptions",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["push"],
        summary: "Unsubscribe an endpoint (Web Push) or a device token",
        body: UnsubscribeBodySchema,
        response: { 204: Type.Null(), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request, reply) => {
      const { userId } = currentSession(request);
      const body = request.body;
      const removed =
        "endpoint" in body
          ? await push.subscriptions.removeForUser(db, userId, "webpush", normalizeEndpoint(body.endpoint))
          : await push.subscriptions.removeForUser(db, userId, body.kind, body.token);
      if (!removed) throw new CountersignError("push_subscription_not_found");
      return reply.code(204).send(null);
    },
  );
}

/**
 * Checks what the schema cannot: the endpoint is an absolute https URL without credentials
 * (RFC 8030 §5: pushes are POSTed to it over TLS), `p256dh` is a point on P-256 (RFC 8291 §2:
 * an invalid point would fail every encryption) and `auth` is 16 bytes (RFC 8291 §2).
 */
function toTarget(
  body: { endpoint: string; keys: { p256dh: string; auth: string } } | { kind: "apns" | "fcm"; token: string },
): PushTarget {
  if ("kind" in body) {
    // APNs device tokens are hexadecimal.
    if (body.kind === "apns" && !/^[0-9a-fA-F]{64,200}$/.test(body.token)) {
      throw new CountersignError("push_subscription_invalid", { message: "An APNs device token is hexadecimal." });
    }
    return { kind: body.kind, token: body.kind === "apns" ? body.token.toLowerCase() : body.token };
  }
  let url: URL;
  try {
    url = new URL(body.endpoint);
  } catch (cause) {
    throw new CountersignError("push_subscription_invalid", { message: "The endpoint is not a URL.", cause });
  }
  if (url.protocol !== "https:" || url.username !== "" || url.password !== "" || url.hash !== "") {
    throw new CountersignError("push_subscription_invalid", { message: "The endpoint must be an https URL." });
  }
  const auth = Buffer.from(body.keys.auth, "base64url");
  if (auth.length !== 16) {
    throw new CountersignError("push_subscription_invalid", { message: "keys.auth must be 16 bytes." });
  }
  try {
    const point = Buffer.from(body.keys.p256dh, "base64url");
    if (point.length !== 65 || point[0] !== 4) throw new Error("not an uncompressed point");
    // Throws for a point that is not on the curve.
    ECDH.convertKey(point, "prime256v1");
  } catch (cause) {
    throw new CountersignError("push_subscription_invalid", {
      message: "keys.p256dh must be an uncompressed P-256 public key.",
      cause,
    });
  }
  return { kind: "webpush", endpoint: url.href, p256dh: body.keys.p256dh, auth: body.keys.auth };
}

/** The endpoint as stored: the WHATWG URL serialization, so DELETE matches what POST stored. */
function normalizeEndpoint(endpoint: string): string {
  try {
    return new URL(endpoint).href;
  } catch {
    return endpoint;
  }
}

function sameTarget(a: PushTarget, b: PushTarget): boolean {
  if (a.kind === "webpush" || b.kind === "webpush") {
    return a.kind === "webpush" && b.kind === "webpush" && a.endpoint === b.endpoint;
  }
  return a.kind === b.kind && a.token === b.token;
}
