/** A SHA-2 function as {@link digest} names it. */
export type DigestAlgorithm = "SHA-256" | "SHA-512";

/**
 * SHA-2 through WebCrypto, for browsers: `#digest` resolves here everywhere but Node, which gets
 * `digest-node.ts`. Native in the browser, and nothing added to the app's bundle.
 */
export async function digest(algorithm: DigestAlgorithm, data: Uint8Array): Promise<Uint8Array> {
  // WebCrypto's BufferSource type rejects Uint8Array<ArrayBufferLike>; the view is not copied.
  return new Uint8Array(await globalThis.crypto.subtle.digest(algorithm, data as Uint8Array<ArrayBuffer>));
}
