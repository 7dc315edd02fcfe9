import { toBase64Url } from "@countersign/protocol";

/** A fresh Device Key pair: both private parts non-extractable (D-1: they never leave the browser). */
export async function generateDeviceKeys(): Promise<{ signing: CryptoKeyPair; wrapping: CryptoKey }> {
  const signing = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const wrapping = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  return { signing, wrapping };
}

/** The public signing key as the server takes it: base64url of the SPKI DER. */
export async function signingPublicKeyB64u(publicKey: CryptoKey): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.exportKey("spki", publicKey)));
}
