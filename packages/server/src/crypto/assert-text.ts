/**
 * Checks for strings that are bound into AAD, HMAC inputs and other byte encodings.
 *
 * A string with a lone surrogate is refused because UTF-8 encoding replaces it with U+FFFD: two
 * different strings would then encode to the same bytes and be bound as the same value.
 */

/**
 * Throws a TypeError unless `value` is a well-formed string (no lone surrogates), and a
 * non-empty one unless `allowEmpty` is set. The label names the argument.
 */
export function assertText(
  value: unknown,
  label: string,
  options: { allowEmpty?: boolean } = {},
): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`${label} must be a string`);
  if (!value.isWellFormed()) throw new TypeError(`${label} must be well-formed Unicode`);
  if (value.length === 0 && options.allowEmpty !== true) throw new TypeError(`${label} must not be empty`);
}
