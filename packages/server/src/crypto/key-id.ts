/**
 * Key ids ("kid") name a key inside a ciphertext (`v1.<kid>.…`) and in the key ring. The
 * alphabet is the base64url one without padding, so a kid never contains the `.` that separates
 * the parts of a field ciphertext, and never needs escaping in a URL, a log line or SQL.
 */

/** The syntax of a key id: 1 to 32 characters from `[A-Za-z0-9_-]`. */
export const KEY_ID_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,32}$/;

/** Whether `value` is a syntactically valid key id. */
export function isKeyId(value: unknown): value is string {
  return typeof value === "string" && KEY_ID_PATTERN.test(value);
}

/**
 * Throws a TypeError unless `value` is a valid key id. The label names the argument. The kid
 * itself is not echoed: it may come from stored data.
 */
export function assertKeyId(value: unknown, label: string): asserts value is string {
  if (!isKeyId(value)) throw new TypeError(`${label} must match ${KEY_ID_PATTERN.source}`);
}
