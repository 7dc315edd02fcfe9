import { type ClientHttp2Session, connect, constants } from "node:http2";
import { createApnsProviderToken } from "./apns-provider-token.ts";
import type { NativeTarget, PushMessage, PushOutcome, PushSender } from "./push-message.ts";

/** Options of {@link createApnsSender}. */
export interface ApnsSenderOptions {
  readonly teamId: string;
  readonly keyId: string;
  /** The `.p8` signing key, PKCS #8 PEM. */
  readonly privateKey: string;
  /** The app's bundle id, sent as `apns-topic`. */
  readonly bundleId: string;
  /** `https://api.push.apple.com` (or the sandbox, or a test stub). */
  readonly baseUrl: string;
  readonly now: () => number;
  readonly timeoutMs: number;
  /** Extra trusted CA (PEM); tests only. */
  readonly ca?: string;
}

/** An APNs sender holding one HTTP/2 connection, opened on first use. */
export interface ApnsSender {
  readonly send: PushSender<Pick<NativeTarget, "token">>;
  /** Closes the connection (at shutdown). */
  close(): void;
}

/** Reasons APNs gives when the device token is not (or no longer) valid for this app: unsubscribe. */
const GONE_REASONS = new Set(["BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"]);
/** Reasons that mean the provider token must be signed again. */
const TOKEN_REASONS = new Set(["ExpiredProviderToken", "InvalidProviderToken"]);

/**
 * Apple Push Notification service over HTTP/2 (RFC 9113) with token authentication (Apple,
 * "Sending notification requests to APNs"): `POST /3/device/<token>` with
 * `authorization: bearer <provider JWT>`, `apns-push-type: alert`, `apns-priority: 10` (deliver
 * now), `apns-expiration` = the request's expiry (Unix seconds: APNs drops it after that),
 * `apns-topic` = the bundle id, `apns-collapse-id` = the request id, and an alert with
 * `interruption-level: time-sensitive` so Focus modes let it through (T-3).
 */
export function createApnsSender(options: ApnsSenderOptions): ApnsSender {
  const token = createApnsProviderToken(options);
  let session: ClientHttp2Session | undefined;
  const connection = () => {
    if (session === undefined || session.closed || session.destroyed) {
      const opened = connect(options.baseUrl, options.ca === undefined ? {} : { ca: options.ca });
      // A broken connection is dropped; the next send opens a new one.
      const drop = () => {
        if (session === opened) session = undefined;
      };
      opened.on("error", drop);
      opened.on("goaway", drop);
      opened.on("close", drop);
      opened.unref();
      session = opened;
    }
    return session;
  };

  const send = async (target: { token: string }, message: PushMessage): Promise<PushOutcome> => {
    let bearer: string;
    try {
      bearer = await token.get();
    } catch {
      return { kind: "failed", reason: "cannot sign the APNs provider token" };
    }
    const { payload } = message;
    const body = JSON.stringify({
      aps: {
        alert: { title: payload.title, subtitle: `${payload.agent_name} · ${payload.action_type}` },
        sound: "default",
        "interruption-level": "time-sensitive",
      },
      ...payload,
    });
    const result = await new Promise<{ status: number; body: string } | { error: string }>((settle) => {
      let stream: ReturnType<ClientHttp2Session["request"]>;
      try {
        stream = connection().request({
          [constants.HTTP2_HEADER_METHOD]: "POST",
          [constants.HTTP2_HEADER_PATH]: `/3/device/${encodeURIComponent(target.token)}`,
          authorization: `bearer ${bearer}`,
          "apns-push-type": "alert",
          "apns-priority": "10",
          "apns-expiration": String(Math.floor(message.expiresAt / 1000)),
          "apns-topic": options.bundleId,
          "apns-collapse-id": message.approvalId,
          "content-type": "application/json",
        });
      } catch (error) {
        settle({ error: `cannot open an APNs stream: ${(error as NodeJS.ErrnoException).code ?? "error"}` });
        return;
      }
      let status = 0;
      const chunks: Buffer[] = [];
      stream.setTimeout(options.timeoutMs, () => {
        stream.close(constants.NGHTTP2_CANCEL);
        settle({ error: "timeout" });
      });
      stream.on("response", (headers) => {
        status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => settle({ status, body: Buffer.concat(chunks).toString("utf8") }));
      stream.on("error", (error: NodeJS.ErrnoException) => settle({ error: `connection: ${error.code ?? "error"}` }));
      stream.end(body);
    });
    if ("error" in result) return { kind: "retry", reason: `APNs ${result.error}` };
    if (result.status === 200) return { kind: "delivered" };
    let reason = "";
    try {
      reason = String((JSON.parse(result.body) as { reason?: unknown }).reason ?? "");
    } catch {
      // No JSON body: the status alone decides.
    }
    const described = `APNs answered ${result.status}${/^[A-Za-z]{1,40}$/.test(reason) ? ` ${reason}` : ""}`;
    if (result.status === 410 || GONE_REASONS.has(reason)) return { kind: "gone", reason: described };
    if (result.status === 403 && TOKEN_REASONS.has(reason)) {
      token.reset();
      return { kind: "retry", reason: described };
    }
    if (result.status === 429 || result.status >= 500) return { kind: "retry", reason: described };
    return { kind: "failed", reason: described };
  };

  return {
    send: (target, message) => send(target, message),
    close() {
      session?.close();
      session = undefined;
    },
  };
}
