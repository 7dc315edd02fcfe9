import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseDictionary } from "./parse-dictionary.ts";
import { serializeBareItem, serializeDictionary } from "./serialize-structured-field.ts";
import type { BareItem, Dictionary, InnerList, Item } from "./structured-field-types.ts";

function roundTrip(input: string): string | null {
  const parsed = parseDictionary(input);
  return parsed === null ? null : serializeDictionary(parsed);
}

describe("parseDictionary (RFC 8941 §4.2.2)", () => {
  it("parses items, inner lists, parameters and bare keys", () => {
    const parsed = parseDictionary('a=1, b=?0, c;x=tok, d=("s" :AQID:);y=1.5, e=-12.25');
    assert.ok(parsed);
    assert.deepEqual([...parsed.keys()], ["a", "b", "c", "d", "e"]);
    assert.deepEqual(parsed.get("a"), { kind: "item", value: { type: "integer", value: 1 }, params: [] });
    assert.deepEqual(parsed.get("c"), {
      kind: "item",
      value: { type: "boolean", value: true },
      params: [["x", { type: "token", value: "tok" }]],
    });
    const d = parsed.get("d") as InnerList;
    assert.equal(d.kind, "inner-list");
    assert.deepEqual(
      d.items.map((i: Item) => i.value),
      [
        { type: "string", value: "s" },
        { type: "byte-sequence", value: Uint8Array.of(1, 2, 3) },
      ],
    );
    assert.deepEqual(d.params, [["y", { type: "decimal", value: 1.5 }]]);
    assert.deepEqual((parsed.get("e") as Item).value, { type: "decimal", value: -12.25 });
  });

  it("serializes back to the canonical form", () => {
    assert.equal(roundTrip("a=1,   b=( 1  2 );k, c=?1;p=?1"), "a=1, b=(1 2);k, c;p");
    assert.equal(
      roundTrip('sig=("@method" "x");created=1;keyid="a\\"b"'),
      'sig=("@method" "x");created=1;keyid="a\\"b"',
    );
    assert.equal(roundTrip("a=1.0, b=-0.5"), "a=1.0, b=-0.5");
    assert.equal(roundTrip(""), "");
  });

  it("allows spaces before parameter keys and tabs around commas", () => {
    assert.equal(roundTrip("a=1; b=2,\tc=3"), "a=1;b=2, c=3");
  });

  for (const [label, input] of [
    ["a trailing comma", "a=1,"],
    ["a repeated key", "a=1, a=2"],
    ["a repeated parameter", "a=1;p=1;p=2"],
    ["an uppercase key", "A=1"],
    ["a key starting with a digit", "1a=1"],
    ["a non-ASCII character", 'a="caf\u00e9"'],
    ["a control character in a string", 'a="a\u0001"'],
    ["a bad escape in a string", 'a="\\n"'],
    ["an unterminated string", 'a="abc'],
    ["an unterminated inner list", "a=(1 2"],
    ["items not separated by a space", 'a=("a""b")'],
    ["a 16-digit integer", "a=1234567890123456"],
    ["four fractional digits", "a=1.2345"],
    ["a 13-digit decimal integer part", "a=1234567890123.1"],
    ["a decimal ending in a dot", "a=1."],
    ["unpadded base64", "a=:AQI:"],
    ["base64 with non-zero pad bits", "a=:AQJ=:"],
    ["base64url characters in a byte sequence", "a=:-_8=:"],
    ["an unterminated byte sequence", "a=:AQID"],
    ["an RFC 9651 date", "a=@1659578233"],
    ["an RFC 9651 display string", 'a=%"x"'],
    ["a bad boolean", "a=?2"],
    ["garbage after a member", "a=1 b"],
    ["a leading tab", "\ta=1"],
  ] as const) {
    it(`fails on ${label}`, () => {
      assert.equal(parseDictionary(input), null);
    });
  }

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (input) => {
        const parsed = parseDictionary(input);
        assert.ok(parsed === null || parsed instanceof Map);
      }),
      { numRuns: 2000 },
    );
  });

  it("re-parses its own serialization to the same value", () => {
    const key = fc.stringMatching(/^[a-z*][a-z0-9_\-.*]{0,6}$/);
    const bareItem: fc.Arbitrary<BareItem> = fc.oneof(
      fc
        .integer({ min: -999_999_999_999_999, max: 999_999_999_999_999 })
        .map((value): BareItem => ({ type: "integer", value })),
      fc.integer({ min: -9_999_999, max: 9_999_999 }).map((n): BareItem => ({ type: "decimal", value: n / 1000 })),
      fc.stringMatching(/^[\x20-\x7e]{0,12}$/).map((value): BareItem => ({ type: "string", value })),
      fc
        .stringMatching(/^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]{0,8}$/)
        .map((value): BareItem => ({ type: "token", value })),
      fc.uint8Array({ maxLength: 24 }).map((value): BareItem => ({ type: "byte-sequence", value })),
      fc.boolean().map((value): BareItem => ({ type: "boolean", value })),
    );
    const params = fc.uniqueArray(fc.tuple(key, bareItem), { maxLength: 3, selector: ([k]) => k });
    const item = fc.record({ kind: fc.constant("item" as const), value: bareItem, params });
    const member = fc.oneof(
      item,
      fc.record({ kind: fc.constant("inner-list" as const), items: fc.array(item, { maxLength: 3 }), params }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, member), { maxLength: 4, selector: ([k]) => k }), (members) => {
        const dictionary: Dictionary = new Map(members);
        const text = serializeDictionary(dictionary);
        const reparsed = parseDictionary(text);
        assert.ok(reparsed, text);
        assert.equal(serializeDictionary(reparsed), text);
      }),
    );
  });
});

describe("serializeBareItem (RFC 8941 §4.1.3.1)", () => {
  it("rounds decimals to three fractional digits and keeps at least one", () => {
    assert.equal(serializeBareItem({ type: "decimal", value: 2 }), "2.0");
    assert.equal(serializeBareItem({ type: "decimal", value: 0.25 }), "0.25");
    assert.equal(serializeBareItem({ type: "decimal", value: -1.5 }), "-1.5");
  });

  it("refuses values RFC 8941 cannot carry", () => {
    assert.throws(() => serializeBareItem({ type: "integer", value: 1e15 }), TypeError);
    assert.throws(() => serializeBareItem({ type: "integer", value: 1.5 }), TypeError);
    assert.throws(() => serializeBareItem({ type: "string", value: "line\nbreak" }), TypeError);
    assert.throws(() => serializeBareItem({ type: "token", value: "1abc" }), TypeError);
    assert.throws(() => serializeBareItem({ type: "decimal", value: Number.NaN }), TypeError);
  });
});
