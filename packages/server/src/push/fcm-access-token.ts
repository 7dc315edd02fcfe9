import { importPKCS8, SignJWT } from "jose";
import { httpsPost } from "./https-post.ts";

/** Options of {@link createFcmAccessToken}. */
export interface FcmAccessTokenOptions {
  /** The service account's `client_email`: the assertion's `iss` and `sub`. */
  readonly clientEmail: string;
  /** The service account's RS256 private key, PKCS #8 PEM. */
  readonly privateKey: string;
  /** The service account's `token_uri`: the assertion's `aud` and where it is posted. */
  readonly tokenUri: string;
  readonly now: () => number;
  readonly timeoutMs: number;
  readonly ca?: string;
}

/** Gives a current OAuth access token for FCM, fetching a new one shortly before the old expires. */
export interface FcmAccessToken {
  /** @throws Error with a short reason when no token could be obtained. */
  get(): Promise<string>;
  /** Drops the cached token (FCM answered 401). */
  reset(): void;
}

/** The OAuth scope of the FCM HTTP v1 API. */
export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** A token is refreshed this long before it expires, so no request carries an expiring one. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * Service-account OAuth for FCM: the JWT bearer grant of RFC 7523 §2.1. The assertion is a JWT
 * (RFC 7519) signed RS256 with `iss`/`sub` = the service account, `aud` = the token URI,
 * `scope`, `iat` and `exp` = `iat` + 1 h (RFC 7523 §3: aud, exp and iss are required). Posted as
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…`; the answer's
 * `access_token` is cached until `expires_in` minus a margin. Concurrent callers share one fetch.
 */
export function createFcmAccessToken(options: FcmAccessTokenOptions): FcmAccessToken {
  const key = importPKCS8(options.privateKey, "RS256");
  // Rejections surface through get(); this keeps an unused bad key from being an unhandled one.
  key.catch(() => {});
  let cached: { token: Promise<string>; expiresAt: number } | undefined;

  const fetchToken = async (): Promise<{ token: string; expiresAt: number }> => {
    const issuedAt = Math.floor(options.now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(options.clientEmail)
      .setSubject(options.clientEmail)
      .setAudience(options.tokenUri)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 3600)
      .sign(await key);
    const result = await httpsPost(options.tokenUri, {
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
      timeoutMs: options.timeoutMs,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    if ("error" in result) throw new Error(`token endpoint ${result.error}`);
    // RFC 6749 §5.1: access_token, token_type and (recommended) expires_in in seconds.
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(result.body);
    } catch {
      parsed = {};
    }
    if (result.status !== 200 || typeof parsed.access_token !== "string" || parsed.access_token === "") {
      throw new Error(`token endpoint answered ${result.status}`);
    }
    const lifetime = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : 3600;
    return { token: parsed.access_token, expiresAt: options.now() + lifetime * 1000 - REFRESH_MARGIN_MS };
  };

  return {
    get() {
      if (cached === undefined || options.now() >= cached.expiresAt) {
        const pending = fetchToken();
        const entry = { token: pending.then((t) => t.token), expiresAt: Number.POSITIVE_INFINITY };
        cached = entry;
        pending.then(
          (t) => {
            entry.expiresAt = t.expiresAt;
          },
          () => {
            if (cached === entry) cached = undefined;
          },
        );
      }
      return cached.token;
    },
    reset() {
      cached = undefined;
    },
  };
}
