/**
 * The RFC 9530 §5 hash algorithms we produce and check. Both are "Active" in the IANA Hash
 * Algorithms for HTTP Digest Fields registry (RFC 9530 §7.2); the deprecated ones (md5, sha, …)
 * are never produced and are ignored when received.
 */
export type ContentDigestAlgorithm = "sha-256" | "sha-512";

/** WebCrypto name and digest length of each supported algorithm. */
export const CONTENT_DIGEST_ALGORITHMS: Readonly<
  Record<ContentDigestAlgorithm, { readonly webCrypto: string; readonly length: number }>
> = {
  "sha-256": { webCrypto: "SHA-256", length: 32 },
  "sha-512": { webCrypto: "SHA-512", length: 64 },
};

/** Whether `name` is a supported {@link ContentDigestAlgorithm}. */
export function isContentDigestAlgorithm(name: unknown): name is ContentDigestAlgorithm {
  return typeof name === "string" && Object.hasOwn(CONTENT_DIGEST_ALGORITHMS, name);
}

/** Hashes `body` with WebCrypto, which runs off the main thread in Node (DESIGN §4.12). */
export async function digestBody(algorithm: ContentDigestAlgorithm, body: Uint8Array): Promise<Uint8Array> {
  const { webCrypto } = CONTENT_DIGEST_ALGORITHMS[algorithm];
  // WebCrypto's BufferSource type rejects Uint8Array<ArrayBufferLike>; the view is not copied.
  return new Uint8Array(await globalThis.crypto.subtle.digest(webCrypto, body as Uint8Array<ArrayBuffer>));
}
