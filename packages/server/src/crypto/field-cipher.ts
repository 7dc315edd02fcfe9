import { randomFillSync } from "node:crypto";
import { assertBytes, concatBytes, fromBase64Url, toBase64Url, utf8 } from "@countersign/protocol";
import {
  CHACHA20_POLY1305_KEY_BYTES,
  CHACHA20_POLY1305_NONCE_BYTES,
  CHACHA20_POLY1305_TAG_BYTES,
  chacha20Poly1305Open,
  chacha20Poly1305Seal,
} from "./aead.ts";
import { assertText } from "./assert-text.ts";
import { assertKeyId, isKeyId } from "./key-id.ts";

/**
 * Field encryption at rest (DESIGN §4.9, threat A-3): one database value sealed with
 * ChaCha20-Poly1305 (RFC 8439 §2.8) under a data key, in the envelope
 *
 *     v1.<kid>.<base64url(nonce(12) ‖ ciphertext ‖ tag(16))>
 *
 * where `<kid>` names the key that sealed it, so readers find the key and keys can change
 * without re-encrypting (the `$ba$<version>$` idea of better-auth). The AAD binds the version,
 * the kid and where the value lives (table, column, row id): a ciphertext copied to another row,
 * column or table, or relabelled with another kid, does not decrypt.
 */

/** The envelope version this module writes and the only one it reads. */
export const FIELD_CIPHER_VERSION = "v1";

/** The key that seals a field: a user data key or a server data key, with its id. */
export interface FieldKey {
  /** Key id written into the envelope; matches `[A-Za-z0-9_-]{1,32}`. */
  kid: string;
  /** The 32-byte data key. */
  key: Uint8Array;
}

/** Where a field lives; all three are bound into the AAD. */
export interface FieldContext {
  table: string;
  column: string;
  /** The row's primary key as a string (for example a UUID, or a number's decimal form). */
  rowId: string;
}

/** Finds the data key for a kid, or null (or undefined) when there is none, e.g. after erasure. */
export type FieldKeyResolver = (kid: string) => Uint8Array | null | undefined;

const DOMAIN = "countersign/field";
const MIN_SEALED_BYTES = CHACHA20_POLY1305_NONCE_BYTES + CHACHA20_POLY1305_TAG_BYTES;
// ignoreBOM keeps a leading U+FEFF, so decryptFieldText returns exactly what was encrypted.
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// Each part is prefixed with its UTF-8 length as a 32-bit big-endian integer, so no choice of
// table, column or row id can shift bytes from one part into the next (RFC 8439 §2.8 leaves the
// structure of the AAD to the application).
function fieldAad(kid: string, context: FieldContext): Uint8Array {
  const parts = [DOMAIN, FIELD_CIPHER_VERSION, kid, context.table, context.column, context.rowId].map(utf8);
  const encoded: Uint8Array[] = [];
  for (const part of parts) {
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, part.length);
    encoded.push(prefix, part);
  }
  return concatBytes(...encoded);
}

function assertContext(context: FieldContext): void {
  if (typeof context !== "object" || context === null) throw new TypeError("context must be an object");
  assertText(context.table, "context.table");
  assertText(context.column, "context.column");
  assertText(context.rowId, "context.rowId");
}

/**
 * Encrypts one field value under `key`, with a fresh random 96-bit nonce. Strings are encoded
 * as UTF-8.
 *
 * @returns `v1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
 * @throws TypeError when the kid, key, context or plaintext is not valid (a string plaintext must
 *   be well-formed Unicode).
 *
 * @example
 * ```ts
 * const stored = encryptField({ kid: user.dataKeyId, key: dataKey }, { table: "users", column: "email", rowId: user.id }, email);
 * ```
 */
export function encryptField(key: FieldKey, context: FieldContext, plaintext: Uint8Array | string): string {
  if (typeof key !== "object" || key === null) throw new TypeError("key must be an object");
  assertKeyId(key.kid, "key.kid");
  assertBytes(key.key, "key.key", CHACHA20_POLY1305_KEY_BYTES);
  assertContext(context);
  let bytes: Uint8Array;
  if (typeof plaintext === "string") {
    assertText(plaintext, "plaintext", { allowEmpty: true });
    bytes = utf8(plaintext);
  } else {
    assertBytes(plaintext, "plaintext");
    bytes = plaintext;
  }
  const nonce = randomFillSync(new Uint8Array(CHACHA20_POLY1305_NONCE_BYTES));
  const sealed = chacha20Poly1305Seal(key.key, nonce, bytes, fieldAad(key.kid, context));
  return `${FIELD_CIPHER_VERSION}.${key.kid}.${toBase64Url(concatBytes(nonce, sealed))}`;
}

/**
 * Decrypts a field written by {@link encryptField}. The envelope is parsed strictly: exactly
 * three `.`-separated parts, version `v1`, a valid kid, canonical unpadded base64url of at least
 * 28 bytes.
 *
 * @param resolveKey returns the 32-byte key for the envelope's kid, or null/undefined when there
 *   is none.
 * @returns the plaintext, or null when the envelope is malformed, the kid has no key, or the
 *   value does not authenticate for this kid and context. The reason is not reported.
 * @throws TypeError when the context is not valid or the resolver returns something other than
 *   a 32-byte Uint8Array, null or undefined (programming errors, not bad data).
 */
export function decryptField(
  resolveKey: FieldKeyResolver,
  context: FieldContext,
  ciphertext: string,
): Uint8Array | null {
  if (typeof resolveKey !== "function") throw new TypeError("resolveKey must be a function");
  assertContext(context);
  if (typeof ciphertext !== "string") return null;
  const parts = ciphertext.split(".");
  if (parts.length !== 3) return null;
  const [version, kid, body] = parts as [string, string, string];
  if (version !== FIELD_CIPHER_VERSION || !isKeyId(kid)) return null;
  const bytes = fromBase64Url(body);
  if (bytes === null || bytes.length < MIN_SEALED_BYTES) return null;
  const key = resolveKey(kid);
  if (key === null || key === undefined) return null;
  assertBytes(key, "resolved key", CHACHA20_POLY1305_KEY_BYTES);
  return chacha20Poly1305Open(
    key,
    bytes.subarray(0, CHACHA20_POLY1305_NONCE_BYTES),
    bytes.subarray(CHACHA20_POLY1305_NONCE_BYTES),
    fieldAad(kid, context),
  );
}

/**
 * {@link decryptField} for values encrypted from strings: returns the text, or null when
 * decryption fails or the plaintext is not valid UTF-8.
 */
export function decryptFieldText(
  resolveKey: FieldKeyResolver,
  context: FieldContext,
  ciphertext: string,
): string | null {
  const bytes = decryptField(resolveKey, context, ciphertext);
  if (bytes === null) return null;
  try {
    return textDecoder.decode(bytes);
  } catch {
    return null;
  } finally {
    bytes.fill(0);
  }
}
