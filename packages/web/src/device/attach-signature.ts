import { canonicalize, toBase64Url, utf8 } from "@countersign/protocol";

/** The bytes a device signs to bind a session to itself (spec §2, `POST /v1/me/devices/:id/attach`). */
export function attachMessage(sessionHandle: string, deviceId: string): Uint8Array {
  return utf8(
    canonicalize({ v: 1, purpose: "countersign/device-attach", session: sessionHandle, device_id: deviceId }),
  );
}

/**
 * The attach signature: ECDSA P-256 / SHA-256 over {@link attachMessage}, in WebCrypto's raw
 * r‖s form (64 bytes), base64url. Naming the session handle stops a signature from being replayed
 * to attach another session.
 */
export async function attachSignature(privateKey: CryptoKey, sessionHandle: string, deviceId: string): Promise<string> {
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    privateKey,
    attachMessage(sessionHandle, deviceId) as Uint8Array<ArrayBuffer>,
  );
  return toBase64Url(new Uint8Array(signature));
}
