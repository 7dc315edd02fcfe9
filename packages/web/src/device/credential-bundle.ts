import { CountersignError, concatBytes, fromBase64Url, toBase64Url, utf8 } from "@countersign/protocol";

const PREFIX = "v1.";
const IV_BYTES = 12;

/**
 * The additional data of a bundle: it names its account, device and account key set, so it opens
 * nowhere else, and a bundle of one key set cannot be served as another's.
 */
export function bundleAad(userId: string, deviceId: string, accountKeyId: string): Uint8Array {
  for (const part of [userId, deviceId, accountKeyId]) {
    if (part.includes("|")) throw new TypeError("an id in the bundle's additional data holds '|'");
  }
  return utf8(`countersign/credential-bundle/v1|${userId}|${deviceId}|${accountKeyId}`);
}

/**
 * The Credential Bundle (spec §0): the AUK sealed by this device's non-extractable AES-GCM key,
 * `v1.` + b64u(iv ‖ ciphertext+tag).
 */
export async function wrapBundle(
  wrapping: CryptoKey,
  auk: Uint8Array,
  userId: string,
  deviceId: string,
  accountKeyId: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: bundleAad(userId, deviceId, accountKeyId) as Uint8Array<ArrayBuffer> },
    wrapping,
    auk as Uint8Array<ArrayBuffer>,
  );
  return PREFIX + toBase64Url(concatBytes(iv, new Uint8Array(sealed)));
}

/**
 * Opens a Credential Bundle back into the AUK.
 *
 * @throws CountersignError `e2e_decrypt_failed` for any failure, without saying which (a bundle
 *   of another device, a tampered one, a wrong account, another key set).
 */
export async function unwrapBundle(
  wrapping: CryptoKey,
  bundle: string,
  userId: string,
  deviceId: string,
  accountKeyId: string,
): Promise<Uint8Array> {
  try {
    if (!bundle.startsWith(PREFIX)) throw new Error("bundle version");
    const bytes = fromBase64Url(bundle.slice(PREFIX.length));
    if (bytes === null || bytes.length <= IV_BYTES + 16) throw new Error("bundle length");
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: bytes.subarray(0, IV_BYTES) as Uint8Array<ArrayBuffer>,
        additionalData: bundleAad(userId, deviceId, accountKeyId) as Uint8Array<ArrayBuffer>,
      },
      wrapping,
      bytes.subarray(IV_BYTES) as Uint8Array<ArrayBuffer>,
    );
    const auk = new Uint8Array(plain);
    if (auk.length !== 32) throw new Error("auk length");
    return auk;
  } catch (cause) {
    throw new CountersignError("e2e_decrypt_failed", { cause });
  }
}
