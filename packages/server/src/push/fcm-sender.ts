import { createFcmAccessToken } from "./fcm-access-token.ts";
import { httpsPost } from "./https-post.ts";
import type { NativeTarget, PushMessage, PushOutcome, PushSender } from "./push-message.ts";
import { remainingSeconds } from "./push-message.ts";

/** Options of {@link createFcmSender}. */
export interface FcmSenderOptions {
  readonly projectId: string;
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly tokenUri: string;
  /** `https://fcm.googleapis.com` (or a test stub). */
  readonly baseUrl: string;
  readonly now: () => number;
  readonly timeoutMs: number;
  readonly ca?: string;
}

/** FCM error codes (google.firebase.fcm.v1.FcmError) meaning the token is not valid any more. */
const GONE_CODES = new Set(["UNREGISTERED"]);

/**
 * Firebase Cloud Messaging HTTP v1: `POST {base}/v1/projects/{project}/messages:send` with a
 * service-account access token (see fcm-access-token.ts) and a data message for the device
 * token with `android.priority: "HIGH"` (wake the device now, T-3), `android.ttl` = the seconds
 * left before the request expires (as a protobuf Duration string, `"<n>s"`), and
 * `android.collapse_key` = the request id.
 *
 * Outcomes: 200 delivered; 404 or `UNREGISTERED` gone (unsubscribe); 401 drops the cached access
 * token and retries later; 429 and 5xx retry; anything else failed.
 */
export function createFcmSender(options: FcmSenderOptions): PushSender<Pick<NativeTarget, "token">> {
  const accessToken = createFcmAccessToken(options);
  const url = `${options.baseUrl}/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
  const ca = options.ca === undefined ? {} : { ca: options.ca };

  return async (target, message: PushMessage): Promise<PushOutcome> => {
    let bearer: string;
    try {
      bearer = await accessToken.get();
    } catch (error) {
      return { kind: "retry", reason: `FCM OAuth: ${(error as Error).message}` };
    }
    // FCM data values must be strings.
    const data: Record<string, string> = { ...message.payload };
    const body = JSON.stringify({
      message: {
        token: target.token,
        data,
        android: {
          priority: "HIGH",
          ttl: `${remainingSeconds(message.expiresAt, options.now())}s`,
          collapse_key: message.approvalId,
        },
      },
    });
    const result = await httpsPost(url, {
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json; charset=utf-8" },
      body,
      timeoutMs: options.timeoutMs,
      ...ca,
    });
    if ("error" in result) return { kind: "retry", reason: `FCM ${result.error}` };
    if (result.status === 200) return { kind: "delivered" };
    const code = fcmErrorCode(result.body);
    const described = `FCM answered ${result.status}${code === undefined ? "" : ` ${code}`}`;
    if (result.status === 404 || (code !== undefined && GONE_CODES.has(code)))
      return { kind: "gone", reason: described };
    if (result.status === 401) {
      accessToken.reset();
      return { kind: "retry", reason: described };
    }
    if (result.status === 429 || result.status >= 500) return { kind: "retry", reason: described };
    return { kind: "failed", reason: described };
  };
}

/** The `errorCode` of an FCM error's `FcmError` detail, else the error `status`; only safe words. */
function fcmErrorCode(text: string): string | undefined {
  try {
    const error = (JSON.parse(text) as { error?: { status?: unknown; details?: { errorCode?: unknown }[] } }).error;
    const detail = error?.details?.find((d) => typeof d?.errorCode === "string")?.errorCode;
    const code = detail ?? error?.status;
    return typeof code === "string" && /^[A-Z_]{1,40}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}
