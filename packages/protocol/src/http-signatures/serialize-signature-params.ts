import { serializeInnerList } from "./structured-fields/serialize-structured-field.ts";
import type { Parameters } from "./structured-fields/structured-field-types.ts";

/**
 * The value of the `@signature-params` component (RFC 9421 §2.3): the covered component
 * identifiers as an RFC 8941 inner list of strings, followed by the signature parameters in the
 * given order. The same string is the member value of `Signature-Input` (§4.1).
 *
 * Component identifiers with parameters (`;sf`, `;key`, `;bs`, `;req`, `;tr`) are not supported.
 *
 * @example
 * ```ts
 * serializeSignatureParams(["@method", "@path"], [["created", { type: "integer", value: 1618884473 }]]);
 * // '("@method" "@path");created=1618884473'
 * ```
 */
export function serializeSignatureParams(components: readonly string[], params: Parameters): string {
  return serializeInnerList({
    kind: "inner-list",
    items: components.map((name) => ({ kind: "item", value: { type: "string", value: name }, params: [] })),
    params,
  });
}
