import { CountersignError, fromBase64Url } from "@countersign/protocol";

/**
 * A relayed base64url field as bytes.
 *
 * @throws CountersignError `pairing_message_invalid` when it is absent or not base64url: the
 *   relay handed over something no honest peer sends.
 */
export function decodeMessage(text: string | null | undefined): Uint8Array {
  const bytes = text == null ? null : fromBase64Url(text);
  if (bytes === null) throw new CountersignError("pairing_message_invalid");
  return bytes;
}
