// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
const MAX_NAME_LENGTH = 64;

/** The name a passkey gets when the person gives none. */
export const DEFAULT_PASSKEY_NAME = "Passkey";

/**
 * A passkey name as stored: trimmed, NFC, 1–64 characters, no control or line-separator
 * characters (it is shown in lists and mails). Null when nothing usable is left.
 */
export function normalizePasskeyName(input: unknown): string | null {
  if (typeof input !== "string") return null;
  const name = input.normalize("NFC").trim();
  if (name.length === 0 || [...name].length > MAX_NAME_LENGTH || CONTROL.test(name) || !name.isWellFormed()) {
    return null;
  }
  return name;
}
