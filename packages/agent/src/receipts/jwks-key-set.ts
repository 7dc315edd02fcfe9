import { CountersignError } from "@countersign/protocol";
import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters } from "jose";

/**
 * Where the server's public keys come from: the JWKS itself, or its URL.
 *
 * @example
 * ```ts
 * const source: JwksSource = { jwksUrl: "https://countersign.example/.well-known/jwks.json" };
 * ```
 */
export interface JwksSource {
  /** The JWKS document, `{ keys: [...] }`. */
  readonly jwks?: JSONWebKeySet;
  /** `https://<server>/.well-known/jwks.json`; fetched, cached, and fetched again for an unknown `kid`. */
  readonly jwksUrl?: string | URL;
}

/**
 * Finds the key for a JWS header; null when the JWKS has none. Throws `service_unavailable` when it cannot be fetched.
 *
 * @example
 * ```ts
 * const key = await jwksKeyResolver({ jwks })({ alg: "EdDSA", kid: "srv-key-1" });
 * ```
 */
export type JwksKeyResolver = (header: JWSHeaderParameters) => Promise<CryptoKey | null>;

const remoteSets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * Builds a key lookup over a JWKS, for receipts and webhooks alike (the server signs both with
 * the keys it publishes at `/.well-known/jwks.json`). A remote JWKS is fetched through jose's
 * `createRemoteJWKSet`, which caches it and fetches it again, at most every 30 s, when a `kid` is
 * unknown (after a key rotation); one cache per URL is shared by every caller in the process.
 *
 * @throws CountersignError `validation_failed` when neither or both sources are given.
 *
 * @example
 * ```ts
 * const resolve = jwksKeyResolver({ jwksUrl: "https://countersign.example/.well-known/jwks.json" });
 * const key = await resolve({ alg: "EdDSA", kid });
 * ```
 */
export function jwksKeyResolver(source: JwksSource): JwksKeyResolver {
  if ((source.jwks === undefined) === (source.jwksUrl === undefined)) {
    throw new CountersignError("validation_failed", { message: "Give exactly one of jwks and jwksUrl." });
  }
  let set: (header: JWSHeaderParameters) => Promise<CryptoKey>;
  if (source.jwks !== undefined) {
    const local = createLocalJWKSet(source.jwks);
    set = (header) => local(header);
  } else {
    const url = new URL(String(source.jwksUrl));
    let remote = remoteSets.get(url.href);
    if (remote === undefined) {
      remote = createRemoteJWKSet(url, { timeoutDuration: 10_000 });
      remoteSets.set(url.href, remote);
    }
    const fetched = remote;
    set = (header) => fetched(header);
  }
  return async (header) => {
    try {
      return await set(header);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return null;
      throw new CountersignError("service_unavailable", {
        message: "The server's public keys (JWKS) could not be fetched.",
        cause: error,
      });
    }
  };
}
