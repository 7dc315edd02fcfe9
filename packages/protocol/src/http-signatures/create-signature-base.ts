import { componentValue } from "./component-value.ts";
import type { HttpRequestParts } from "./http-request-parts.ts";

/**
 * Builds the RFC 9421 §2.5 signature base: one line `"<name>": <value>` per covered component, in
 * order, then `"@signature-params": <signatureParams>` with no trailing newline.
 *
 * Returns null, as §2.5 requires the process to fail, when a component repeats, when
 * `@signature-params` is itself listed, or when the request cannot supply a component's value.
 * `signatureParams` must be the serialized value from {@link serializeSignatureParams} (or the one
 * re-serialized from a parsed `Signature-Input`), never raw header text.
 */
export function createSignatureBase(
  request: HttpRequestParts,
  components: readonly string[],
  signatureParams: string,
): string | null {
  const seen = new Set<string>();
  let base = "";
  for (const name of components) {
    // §2.5 step 2.1: a component identifier may appear only once.
    if (seen.has(name) || name === "@signature-params") return null;
    seen.add(name);
    const value = componentValue(request, name);
    if (value === null) return null;
    // Names are RFC 9110 tokens or "@" names, so quoting them is their sf-string serialization.
    base += `"${name}": ${value}\n`;
  }
  return `${base}"@signature-params": ${signatureParams}`;
}
