import { Buffer } from "node:buffer";
import { parseArrayLiteral } from "./parse-array-literal.ts";

/** Turns one value in PostgreSQL's text output format into its JavaScript value. */
export type TypeParser = (text: string) => unknown;

const identity: TypeParser = (text) => text;
const toNumber: TypeParser = (text) => Number(text);

/** `int8` → number, refusing values a JS number cannot hold exactly. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`int8 value ${text} is outside JavaScript's safe integer range; cast it to text or numeric`);
  }
  return value;
}

// ISO DateStyle output: `2024-05-01 13:45:00.123456+02`, offsets may carry minutes and (for old
// local mean times) seconds, years may have more than four digits, and BC dates end in " BC".
const TIMESTAMP_PATTERN =
  /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?( BC)?$/;

/**
 * `timestamptz` / `timestamp` → Date. A `timestamp` has no offset and is read as UTC, so the
 * Node process's time zone never changes a value. Sub-millisecond digits are cut, not rounded.
 */
export function parseTimestamp(text: string): Date {
  const match = TIMESTAMP_PATTERN.exec(text);
  if (match === null) {
    throw new RangeError(
      `cannot read timestamp ${JSON.stringify(text)}: only finite ISO-style timestamps are supported`,
    );
  }
  const [, year, month, day, hour, minute, second, fraction, sign, offsetHours, offsetMinutes, offsetSeconds, bc] =
    match;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(bc ? 1 - Number(year) : Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(
    Number(hour),
    Number(minute),
    Number(second),
    fraction ? Number(fraction.slice(0, 3).padEnd(3, "0")) : 0,
  );
  if (sign !== undefined) {
    const offsetMs = (Number(offsetHours) * 3600 + Number(offsetMinutes ?? 0) * 60 + Number(offsetSeconds ?? 0)) * 1000;
    date.setTime(date.getTime() + (sign === "+" ? -offsetMs : offsetMs));
  }
  return date;
}

const OCTAL_ESCAPE = /^[0-3][0-7]{2}$/;

/** `bytea` in either output format (`hex`, the default, or `escape`) → a plain Uint8Array. */
export function parseBytea(text: string): Uint8Array {
  if (text.startsWith("\\x")) {
    // Copy out of the Buffer: small Buffers share a pooled ArrayBuffer that must not leak.
    return new Uint8Array(Buffer.from(text.slice(2), "hex"));
  }
  const out = new Uint8Array(text.length);
  let length = 0;
  for (let i = 0; i < text.length; ) {
    if (text[i] !== "\\") {
      out[length++] = text.charCodeAt(i);
      i += 1;
    } else if (text[i + 1] === "\\") {
      out[length++] = 0x5c;
      i += 2;
    } else {
      const digits = text.slice(i + 1, i + 4);
      if (!OCTAL_ESCAPE.test(digits)) {
        throw new SyntaxError(`malformed bytea escape at offset ${i}`);
      }
      out[length++] = Number.parseInt(digits, 8);
      i += 4;
    }
  }
  return out.slice(0, length);
}

/** Parsers by type OID for the scalar types whose JS type we fix; other types stay text. */
export const SCALAR_TYPE_PARSERS: Readonly<Record<number, TypeParser>> = Object.freeze({
  16: (text: string) => text === "t", // bool
  17: parseBytea, // bytea
  20: parseInt8, // int8
  21: toNumber, // int2
  23: toNumber, // int4
  26: toNumber, // oid
  114: JSON.parse, // json
  700: toNumber, // float4
  701: toNumber, // float8
  1082: identity, // date: a calendar day has no instant, so no Date (which would pick a zone)
  1114: parseTimestamp, // timestamp
  1184: parseTimestamp, // timestamptz
  1700: identity, // numeric: exact decimal, kept as text
  3802: JSON.parse, // jsonb
});

/** Array type OID → element type OID, for the arrays parsed into JS arrays. */
export const ARRAY_ELEMENT_TYPES: Readonly<Record<number, number>> = Object.freeze({
  1000: 16, // bool[]
  1001: 17, // bytea[]
  1005: 21, // int2[]
  1007: 23, // int4[]
  1009: 25, // text[]
  1014: 1042, // bpchar[]
  1015: 1043, // varchar[]
  1016: 20, // int8[]
  1021: 700, // float4[]
  1022: 701, // float8[]
  1028: 26, // oid[]
  1115: 1114, // timestamp[]
  1182: 1082, // date[]
  1185: 1184, // timestamptz[]
  1231: 1700, // numeric[]
  199: 114, // json[]
  2951: 2950, // uuid[]
  3807: 3802, // jsonb[]
});

/**
 * The parser for a type OID: a scalar parser, an array parser built on the element's parser,
 * or `undefined` when the value should stay text.
 */
export function typeParserFor(oid: number): TypeParser | undefined {
  const scalar = SCALAR_TYPE_PARSERS[oid];
  if (scalar !== undefined) {
    return scalar;
  }
  const elementOid = ARRAY_ELEMENT_TYPES[oid];
  if (elementOid === undefined) {
    return undefined;
  }
  const element = SCALAR_TYPE_PARSERS[elementOid] ?? identity;
  return (text) => parseArrayLiteral(text, element);
}
