import { type DigestAlgorithm, digest } from "#digest";

/**
 * The RFC 9530 §5 hash algorithms we produce and check. Both are "Active" in the IANA Hash
 * Algorithms for HTTP Digest Fields registry (RFC 9530 §7.2); the deprecated ones (md5, sha, …)
 * are never produced and are ignored when received.
 */
export type ContentDigestAlgorithm = "sha-256" | "sha-512";

/** Hash function and digest length of each supported algorithm. */
export const CONTENT_DIGEST_ALGORITHMS: Readonly<
  Record<ContentDigestAlgorithm, { readonly hash: DigestAlgorithm; readonly length: number }>
> = {
  "sha-256": { hash: "SHA-256", length: 32 },
  "sha-512": { hash: "SHA-512", length: 64 },
};

/** Whether `name` is a supported {@link ContentDigestAlgorithm}. */
export function isContentDigestAlgorithm(name: unknown): name is ContentDigestAlgorithm {
  return typeof name === "string" && Object.hasOwn(CONTENT_DIGEST_ALGORITHMS, name);
}

/** Hashes `body`: node:crypto under Node, WebCrypto in browsers (`crypto/digest-node.ts` says why). */
export function digestBody(algorithm: ContentDigestAlgorithm, body: Uint8Array): Promise<Uint8Array> {
  return digest(CONTENT_DIGEST_ALGORITHMS[algorithm].hash, body);
}
