import { createDecipheriv, createECDH, createHmac } from "node:crypto";

/**
 * The receiving side of Web Push message encryption (RFC 8291), written independently of the
 * `web-push` library the server sends with, so that the stub push service checks the server's
 * output against the specification rather than against the same code. Test support only: a
 * real user agent does this in the browser.
 */

/** The keys RFC 8291 §3.3–3.4 and RFC 8188 §2.2–2.3 derive for one message. */
export interface Rfc8291Keys {
  readonly prkKey: Buffer;
  readonly keyInfo: Buffer;
  readonly ikm: Buffer;
  readonly prk: Buffer;
  readonly cek: Buffer;
  readonly nonce: Buffer;
}

const hmac = (key: Uint8Array, ...data: Uint8Array[]): Buffer => {
  const mac = createHmac("sha256", key);
  for (const part of data) mac.update(part);
  return mac.digest();
};

function assertLength(bytes: Uint8Array, length: number, label: string): void {
  if (bytes.length !== length) throw new RangeError(`${label} must be ${length} bytes, got ${bytes.length}`);
}

/**
 * Derives the content-encryption key and nonce from the ECDH secret (RFC 8291 §3.4 with the
 * HKDF of RFC 8188 §2.2–2.3, each HKDF reduced to one HMAC since every output is ≤ 32 bytes).
 */
export function deriveRfc8291Keys(input: {
  ecdhSecret: Uint8Array;
  authSecret: Uint8Array;
  uaPublic: Uint8Array;
  asPublic: Uint8Array;
  salt: Uint8Array;
}): Rfc8291Keys {
  assertLength(input.ecdhSecret, 32, "ecdh_secret");
  assertLength(input.authSecret, 16, "auth_secret");
  assertLength(input.uaPublic, 65, "ua_public");
  assertLength(input.asPublic, 65, "as_public");
  assertLength(input.salt, 16, "salt");
  // RFC 8291 §3.4: PRK_key = HMAC-SHA-256(auth_secret, ecdh_secret)
  const prkKey = hmac(input.authSecret, input.ecdhSecret);
  // key_info = "WebPush: info" || 0x00 || ua_public || as_public
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0", "latin1"), input.uaPublic, input.asPublic]);
  // IKM = HMAC-SHA-256(PRK_key, key_info || 0x01)
  const ikm = hmac(prkKey, keyInfo, Uint8Array.of(1));
  // RFC 8188 §2.2: PRK = HMAC-SHA-256(salt, IKM)
  const prk = hmac(input.salt, ikm);
  // RFC 8188 §2.2: CEK = HMAC-SHA-256(PRK, "Content-Encoding: aes128gcm" || 0x00 || 0x01)[0..16]
  const cek = hmac(prk, Buffer.from("Content-Encoding: aes128gcm\0", "latin1"), Uint8Array.of(1)).subarray(0, 16);
  // RFC 8188 §2.3: NONCE = HMAC-SHA-256(PRK, "Content-Encoding: nonce" || 0x00 || 0x01)[0..12]
  const nonce = hmac(prk, Buffer.from("Content-Encoding: nonce\0", "latin1"), Uint8Array.of(1)).subarray(0, 12);
  return { prkKey, keyInfo, ikm, prk, cek, nonce };
}

/** A decrypted push message and what its header carried. */
export interface DecryptedPush {
  readonly plaintext: Buffer;
  readonly salt: Buffer;
  readonly recordSize: number;
  /** The application server's ephemeral public key (the header's keyid, RFC 8291 §4). */
  readonly asPublic: Buffer;
  readonly keys: Rfc8291Keys;
}

/**
 * Decrypts an `aes128gcm` push message body with the subscriber's private key and auth secret.
 *
 * @throws Error when the header is malformed, the record does not authenticate, or the padding
 *   is not that of a final record.
 */
export function decryptRfc8291(
  body: Uint8Array,
  subscriber: { privateKey: Uint8Array; publicKey: Uint8Array; authSecret: Uint8Array },
): DecryptedPush {
  const bytes = Buffer.from(body);
  // RFC 8188 §2.1 header: salt(16) ‖ rs(uint32) ‖ idlen(uint8) ‖ keyid(idlen)
  if (bytes.length < 21) throw new Error("body shorter than the aes128gcm header");
  const salt = bytes.subarray(0, 16);
  const recordSize = bytes.readUInt32BE(16);
  const idlen = bytes[20] as number;
  // RFC 8291 §4: the keyid is the sender's uncompressed P-256 point.
  if (idlen !== 65) throw new Error("keyid must be a 65-byte P-256 public key");
  const asPublic = bytes.subarray(21, 21 + idlen);
  const record = bytes.subarray(21 + idlen);
  // RFC 8291 §4: a push message is a single record, so it must fit in rs.
  if (record.length > recordSize || record.length < 17) throw new Error("not exactly one record");
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(subscriber.privateKey);
  // RFC 8291 §3.1: ecdh_secret = ECDH(ua_private, as_public)
  const ecdhSecret = ecdh.computeSecret(asPublic);
  const keys = deriveRfc8291Keys({
    ecdhSecret,
    authSecret: subscriber.authSecret,
    uaPublic: subscriber.publicKey,
    asPublic,
    salt,
  });
  // RFC 8188 §2.3: the first record's nonce is NONCE XOR SEQ with SEQ = 0, i.e. NONCE itself.
  const decipher = createDecipheriv("aes-128-gcm", keys.cek, keys.nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // RFC 8188 §2: strip zero padding; the delimiter of the last record is 0x02 (RFC 8291 §4).
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2) throw new Error("missing final-record padding delimiter");
  return { plaintext: padded.subarray(0, end), salt, recordSize, asPublic, keys };
}
