import { importPKCS8, SignJWT } from "jose";

/** Options of {@link createApnsProviderToken}. */
export interface ApnsProviderTokenOptions {
  /** The Apple developer team id: the JWT's `iss`. */
  readonly teamId: string;
  /** The signing key's id: the JWT header's `kid`. */
  readonly keyId: string;
  /** The `.p8` key, PKCS #8 PEM, P-256. */
  readonly privateKey: string;
  readonly now: () => number;
}

/** Gives the current provider token, signing a new one when the cached one is too old. */
export interface ApnsProviderToken {
  get(): Promise<string>;
  /** Drops the cached token (APNs answered 403 `ExpiredProviderToken` or `InvalidProviderToken`). */
  reset(): void;
}

/**
 * APNs refuses a token older than one hour and throttles one refreshed more often than every 20
 * minutes (Apple, "Establishing a token-based connection to APNs"): a token is reused for 50.
 */
const TOKEN_REUSE_MS = 50 * 60 * 1000;

/**
 * The APNs provider authentication token: a JWS (RFC 7515) compact JWT (RFC 7519) signed with
 * ES256 (RFC 7518 §3.4), header `{ alg: "ES256", kid }`, claims `{ iss: teamId, iat }`.
 */
export function createApnsProviderToken(options: ApnsProviderTokenOptions): ApnsProviderToken {
  const key = importPKCS8(options.privateKey, "ES256");
  // Rejections surface through get(); this keeps an unused bad key from being an unhandled one.
  key.catch(() => {});
  let cached: { token: Promise<string>; issuedAt: number } | undefined;
  return {
    get() {
      const now = options.now();
      if (cached === undefined || now - cached.issuedAt >= TOKEN_REUSE_MS || now < cached.issuedAt) {
        const token = key.then((k) =>
          new SignJWT({})
            .setProtectedHeader({ alg: "ES256", kid: options.keyId })
            .setIssuer(options.teamId)
            .setIssuedAt(Math.floor(now / 1000))
            .sign(k),
        );
        cached = { token, issuedAt: now };
        // A failed signature must not stick in the cache.
        token.catch(() => {
          if (cached?.token === token) cached = undefined;
        });
      }
      return cached.token;
    },
    reset() {
      cached = undefined;
    },
  };
}
