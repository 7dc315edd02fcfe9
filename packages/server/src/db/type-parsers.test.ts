import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBytea, parseInt8, parseTimestamp, typeParserFor } from "./type-parsers.ts";

describe("parseInt8", () => {
  it("returns numbers within the safe integer range", () => {
    assert.equal(parseInt8("9007199254740991"), Number.MAX_SAFE_INTEGER);
    assert.equal(parseInt8("-9007199254740991"), Number.MIN_SAFE_INTEGER);
    assert.equal(parseInt8("0"), 0);
  });

  it("throws instead of rounding a larger value", () => {
    assert.throws(() => parseInt8("9007199254740992"), RangeError);
    assert.throws(() => parseInt8("-9223372036854775808"), /safe integer range/);
  });
});

describe("parseTimestamp", () => {
  it("applies the offset of a timestamptz", () => {
    assert.equal(parseTimestamp("2024-02-29 23:59:59.123456+00").toISOString(), "2024-02-29T23:59:59.123Z");
    assert.equal(parseTimestamp("2024-03-01 05:29:59.1+05:30").toISOString(), "2024-02-29T23:59:59.100Z");
    assert.equal(parseTimestamp("2024-02-29 18:59:59-05").toISOString(), "2024-02-29T23:59:59.000Z");
    assert.equal(parseTimestamp("1850-01-01 00:00:00+00:09:21").toISOString(), "1849-12-31T23:50:39.000Z");
  });

  it("reads a timestamp without offset as UTC", () => {
    assert.equal(parseTimestamp("2024-02-29 23:59:59").toISOString(), "2024-02-29T23:59:59.000Z");
  });

  it("cuts microseconds instead of rounding up", () => {
    assert.equal(parseTimestamp("2024-12-31 23:59:59.999999").toISOString(), "2024-12-31T23:59:59.999Z");
  });

  it("handles years before 100 and BC", () => {
    assert.equal(parseTimestamp("0099-01-01 00:00:00").getUTCFullYear(), 99);
    assert.equal(parseTimestamp("0044-03-15 12:00:00 BC").getUTCFullYear(), -43);
    assert.equal(parseTimestamp("12345-01-01 00:00:00+00").getUTCFullYear(), 12345);
  });

  it("refuses infinity and non-ISO styles", () => {
    assert.throws(() => parseTimestamp("infinity"), RangeError);
    assert.throws(() => parseTimestamp("-infinity"), RangeError);
    assert.throws(() => parseTimestamp("Thu Feb 29 23:59:59 2024"), /only finite ISO-style/);
  });
});

describe("parseBytea", () => {
  it("decodes hex output into a plain Uint8Array", () => {
    const bytes = parseBytea("\\x00ff10");
    assert.deepEqual(bytes, new Uint8Array([0, 255, 16]));
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
    assert.equal(bytes.buffer.byteLength, 3, "does not expose a pooled buffer");
  });

  it("decodes escape output", () => {
    assert.deepEqual(parseBytea("a\\000\\\\\\377b"), new Uint8Array([0x61, 0, 0x5c, 0xff, 0x62]));
    assert.throws(() => parseBytea("\\9"), /malformed bytea escape/);
  });
});

describe("typeParserFor", () => {
  it("builds array parsers from the element parser", () => {
    assert.deepEqual(typeParserFor(1016)?.("{1,NULL,-3}"), [1, null, -3]);
    assert.deepEqual(typeParserFor(1001)?.('{"\\\\x0102"}'), [new Uint8Array([1, 2])]);
    assert.deepEqual(typeParserFor(1009)?.('{"a b",c}'), ["a b", "c"]);
  });

  it("leaves unknown types as text", () => {
    assert.equal(typeParserFor(1186), undefined); // interval
    assert.equal(typeParserFor(25), undefined); // text
  });
});
