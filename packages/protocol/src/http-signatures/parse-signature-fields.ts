import { parseDictionary } from "./structured-fields/parse-dictionary.ts";
import { serializeInnerList } from "./structured-fields/serialize-structured-field.ts";
import type { Parameters } from "./structured-fields/structured-field-types.ts";

/** One signature's entry in `Signature-Input` (RFC 9421 §4.1). */
export interface SignatureInputMember {
  /** Covered component names, in order. */
  components: readonly string[];
  /** Signature parameters, in order. */
  params: Parameters;
  /** The `@signature-params` value (§2.3), re-serialized from the parsed member. */
  signatureParams: string;
}

/**
 * Reads the member `label` of a `Signature-Input` field (RFC 9421 §4.1). The whole field must be
 * a valid RFC 8941 dictionary (see {@link parseDictionary} for how strict), and the member an
 * inner list of strings. Returns null otherwise, and for component identifiers that carry
 * parameters (`;sf`, `;key`, `;bs`, `;req`, `;tr`), which this implementation does not support.
 */
export function parseSignatureInput(fieldValue: string, label: string): SignatureInputMember | null {
  const member = parseDictionary(fieldValue)?.get(label);
  if (member?.kind !== "inner-list") return null;
  const components: string[] = [];
  for (const item of member.items) {
    if (item.value.type !== "string" || item.params.length > 0) return null;
    components.push(item.value.value);
  }
  // §3.2 step 4: the base is built from the parsed values, so re-serialize rather than copy text.
  return { components, params: member.params, signatureParams: serializeInnerList(member) };
}

/**
 * Reads the member `label` of a `Signature` field (RFC 9421 §4.2): a byte sequence, with no
 * parameters. Returns null when the field or the member is malformed or absent.
 */
export function parseSignatureValue(fieldValue: string, label: string): Uint8Array | null {
  const member = parseDictionary(fieldValue)?.get(label);
  if (member?.kind !== "item" || member.value.type !== "byte-sequence" || member.params.length > 0) return null;
  return member.value.value;
}
