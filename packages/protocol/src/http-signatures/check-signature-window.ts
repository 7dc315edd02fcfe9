/** The default tolerance between the signer's and the verifier's clocks, in seconds (DESIGN §4.1). */
export const DEFAULT_MAX_SKEW_SECONDS = 300;

/**
 * Whether a signature is inside its time window at `now` (Unix seconds): `created` no further than
 * `maxSkewSeconds` from `now` in either direction (DESIGN §4.1), and, when the signer set
 * `expires`, `now` not after it (RFC 9421 §3.2.1). The signer chose `expires`, so no skew is
 * added to it.
 *
 * @example
 * ```ts
 * checkSignatureWindow({ created: 1_700_000_000 }, 1_700_000_200); // true
 * checkSignatureWindow({ created: 1_700_000_000 }, 1_700_000_301); // false
 * ```
 */
export function checkSignatureWindow(
  params: { readonly created: number; readonly expires?: number | undefined },
  now: number,
  maxSkewSeconds: number = DEFAULT_MAX_SKEW_SECONDS,
): boolean {
  if (!Number.isFinite(now) || !Number.isFinite(maxSkewSeconds) || maxSkewSeconds < 0) {
    throw new TypeError("now and maxSkewSeconds must be finite, maxSkewSeconds non-negative");
  }
  if (!Number.isFinite(params.created) || Math.abs(now - params.created) > maxSkewSeconds) return false;
  return params.expires === undefined || now <= params.expires;
}
