// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
const MAX_LABEL_LENGTH = 64;

/**
 * A device's name or platform as stored: trimmed, NFC, at most 64 characters, no control or
 * line-separator characters (both are shown in the devices list). Null when the input is not a
 * string, is too long, or holds such characters; an empty result is null too unless `allowEmpty`
 * (a platform may be unknown, a name may not).
 */
export function normalizeDeviceLabel(input: unknown, options: { allowEmpty?: boolean } = {}): string | null {
  if (typeof input !== "string") return null;
  const label = input.normalize("NFC").trim();
  if (label.length === 0 && options.allowEmpty !== true) return null;
  if ([...label].length > MAX_LABEL_LENGTH || CONTROL.test(label) || !label.isWellFormed()) return null;
  return label;
}
