import { toBase64 } from "../../encoding/base64.ts";
import type { BareItem, Dictionary, InnerList, Item, Parameters } from "./structured-field-types.ts";

/**
 * RFC 8941 §4.1 serialization of the structured values we emit and sign. Each function throws a
 * TypeError on a value RFC 8941 cannot represent, since that is a bug in the caller, never input.
 */

const KEY = /^[a-z*][a-z0-9_\-.*]*$/;
const TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

/** RFC 8941 §4.1.3.1 Serializing a Bare Item. */
export function serializeBareItem(item: BareItem): string {
  switch (item.type) {
    case "integer":
      // §4.1.4: at most 15 digits.
      if (!Number.isSafeInteger(item.value) || Math.abs(item.value) > 999_999_999_999_999) {
        throw new TypeError("integer out of range for a structured field");
      }
      return String(item.value);
    case "decimal":
      return serializeDecimal(item.value);
    case "string":
      return serializeString(item.value);
    case "token":
      if (!TOKEN.test(item.value)) throw new TypeError("not a valid token");
      return item.value;
    case "byte-sequence":
      return `:${toBase64(item.value)}:`;
    case "boolean":
      return item.value ? "?1" : "?0";
  }
}

/**
 * RFC 8941 §4.1.6 Serializing a String: printable ASCII, with `\` and `"` escaped. One pass over
 * the characters, and an escaping copy only for a string that needs one: each signed request's
 * `@signature-params` holds eight strings or more (components, nonce, keyid, alg, tag), and
 * none of ours ever does.
 */
function serializeString(value: string): string {
  let escapes = false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) throw new TypeError("string is not printable ASCII");
    if (code === 0x22 || code === 0x5c) escapes = true;
  }
  return `"${escapes ? value.replace(/[\\"]/g, "\\$&") : value}"`;
}

/** RFC 8941 §4.1.5 Serializing a Decimal: rounded to three fractional digits, at least one. */
function serializeDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError("decimal is not finite");
  const fixed = Math.abs(value).toFixed(3);
  const [integer = "", fraction = ""] = fixed.split(".");
  if (integer.length > 12) throw new TypeError("decimal out of range for a structured field");
  const sign = value < 0 && fixed !== "0.000" ? "-" : "";
  return `${sign}${integer}.${fraction.replace(/0{1,2}$/, "")}`;
}

/** RFC 8941 §4.1.1.2 Serializing Parameters; a `true` boolean value is written as the bare key. */
export function serializeParameters(params: Parameters): string {
  let out = "";
  for (const [key, value] of params) {
    if (!KEY.test(key)) throw new TypeError("not a valid structured field key");
    out += `;${key}`;
    if (!(value.type === "boolean" && value.value)) out += `=${serializeBareItem(value)}`;
  }
  return out;
}

/** RFC 8941 §4.1.3 Serializing an Item. */
export function serializeItem(item: Item): string {
  return serializeBareItem(item.value) + serializeParameters(item.params);
}

/** RFC 8941 §4.1.1.1 Serializing an Inner List. */
export function serializeInnerList(list: InnerList): string {
  return `(${list.items.map(serializeItem).join(" ")})${serializeParameters(list.params)}`;
}

/** RFC 8941 §4.1.2 Serializing a Dictionary. */
export function serializeDictionary(dictionary: Dictionary): string {
  const members: string[] = [];
  for (const [key, member] of dictionary) {
    if (!KEY.test(key)) throw new TypeError("not a valid structured field key");
    if (member.kind === "item" && member.value.type === "boolean" && member.value.value) {
      members.push(key + serializeParameters(member.params));
    } else {
      members.push(`${key}=${member.kind === "item" ? serializeItem(member) : serializeInnerList(member)}`);
    }
  }
  return members.join(", ");
}
