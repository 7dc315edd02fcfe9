import { fromBase64Url, toBase64Url } from "../encoding/base64.ts";
import { assertBytes } from "../encoding/bytes.ts";

/**
 * Ed25519 (RFC 8032) through WebCrypto, which is native in Node ≥ 22 and current browsers. In
 * Node, `crypto.subtle` runs each operation on the libuv thread pool, so verification does not
 * block the event loop (DESIGN §4.12).
 */

const ED25519 = { name: "Ed25519" } as const;

// WebCrypto's BufferSource type rejects Uint8Array<ArrayBufferLike>; a view over the same
// memory satisfies it without copying.
function source(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

/** Generates an Ed25519 key pair. The private key is extractable only when asked. */
export async function generateEd25519KeyPair(options: { extractable?: boolean } = {}): Promise<CryptoKeyPair> {
  return (await globalThis.crypto.subtle.generateKey(ED25519, options.extractable ?? false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
}

/**
 * Imports a 32-byte raw Ed25519 public key (RFC 8032 §5.1.5 encoding). Returns null when the
 * bytes are not a valid point encoding, instead of throwing.
 */
export async function importEd25519PublicKey(raw: Uint8Array): Promise<CryptoKey | null> {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) return null;
  try {
    return await globalThis.crypto.subtle.importKey("raw", source(raw), ED25519, true, ["verify"]);
  } catch {
    return null;
  }
}

/** Exports the 32-byte raw form of an Ed25519 public key. */
export async function exportEd25519PublicKey(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.exportKey("raw", key));
}

/** An Ed25519 private key as a JWK (RFC 8037 §2), as stored in key files. */
export interface Ed25519PrivateJwk {
  kty: "OKP";
  crv: "Ed25519";
  /** base64url public key */
  x: string;
  /** base64url 32-byte seed */
  d: string;
  kid?: string;
}

/** Imports an Ed25519 private key from its JWK form. */
export async function importEd25519PrivateJwk(jwk: Ed25519PrivateJwk, extractable = false): Promise<CryptoKey> {
  const seed = fromBase64Url(jwk.d);
  const x = fromBase64Url(jwk.x);
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || seed?.length !== 32 || x?.length !== 32) {
    throw new TypeError("not an Ed25519 private JWK");
  }
  return globalThis.crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d },
    ED25519,
    extractable,
    ["sign"],
  );
}

/**
 * Imports an Ed25519 private key from its 32-byte seed (RFC 8032 §5.1.5 "private key"). The
 * public half is needed by WebCrypto's JWK import, so callers pass it too.
 */
export async function importEd25519Seed(seed: Uint8Array, publicKey: Uint8Array, extractable = false) {
  assertBytes(seed, "seed", 32);
  assertBytes(publicKey, "publicKey", 32);
  return importEd25519PrivateJwk(
    { kty: "OKP", crv: "Ed25519", d: toBase64Url(seed), x: toBase64Url(publicKey) },
    extractable,
  );
}

/** Exports an extractable Ed25519 private key as a JWK. */
export async function exportEd25519PrivateJwk(key: CryptoKey): Promise<Ed25519PrivateJwk> {
  const jwk = await globalThis.crypto.subtle.exportKey("jwk", key);
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string" || typeof jwk.d !== "string") {
    throw new TypeError("not an Ed25519 private key");
  }
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d };
}

/** Signs `data` with an Ed25519 private key; returns the 64-byte signature. */
export async function ed25519Sign(privateKey: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.sign(ED25519, privateKey, source(data)));
}

/**
 * Verifies an Ed25519 signature (RFC 8032 §5.1.7). Never throws: malformed signatures, keys of
 * the wrong type and engine errors all verify as false.
 */
export async function ed25519Verify(publicKey: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return await globalThis.crypto.subtle.verify(ED25519, publicKey, source(signature), source(data));
  } catch {
    return false;
  }
}
