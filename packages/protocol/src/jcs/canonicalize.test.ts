import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { utf8 } from "../encoding/bytes.ts";
import { toHex } from "../encoding/hex.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { canonicalize } from "./canonicalize.ts";

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

function refuses(value: unknown): void {
  assert.throws(
    () => canonicalize(value),
    (error: unknown) => isCountersignError(error, "validation_failed") && error.cause instanceof TypeError,
  );
}

describe("canonicalize (RFC 8785)", () => {
  it("reproduces the §3.2.2 sample, and the §3.2.4 UTF-8 bytes", () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const canonical = canonicalize(JSON.parse(input));
    assert.equal(
      canonical,
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
    assert.equal(
      toHex(utf8(canonical)),
      "7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282ac245c75303030665c6e4127425c225c5c5c5c5c222f227d",
    );
  });

  it("sorts properties by UTF-16 code units (§3.2.3 sample)", () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    const canonical = canonicalize(JSON.parse(input));
    const values = [...canonical.matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(values, [
      "Carriage Return",
      "One",
      "Control",
      "Latin Small Letter O With Diaeresis",
      "Euro Sign",
      "Emoji: Grinning Face",
      "Hebrew Letter Dalet With Dagesh",
    ]);
    assert.ok(canonical.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"'));
  });

  // Appendix B: IEEE 754 binary64 bit patterns and their canonical forms.
  const APPENDIX_B: ReadonlyArray<readonly [string, string]> = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ];
  for (const [bits, expected] of APPENDIX_B) {
    it(`serializes the number ${bits} as ${expected} (Appendix B)`, () => {
      assert.equal(canonicalize(fromBits(bits)), expected);
    });
  }

  it("refuses NaN and Infinity (Appendix B: 7fffffffffffffff, 7ff0000000000000)", () => {
    refuses(fromBits("7fffffffffffffff"));
    refuses(fromBits("7ff0000000000000"));
    refuses({ a: [Number.NEGATIVE_INFINITY] });
  });

  it("escapes only what §3.2.2.2 requires", () => {
    assert.equal(
      canonicalize("\u0000\b\t\n\f\r\u001f\u007f\u2028</script>"),
      '"\\u0000\\b\\t\\n\\f\\r\\u001f\u007f\u2028</script>"',
    );
    assert.equal(canonicalize("😀"), '"😀"');
  });

  it("keeps array order and canonicalizes nested objects", () => {
    assert.equal(
      canonicalize([{ b: 1, a: [3, { d: null, c: true }] }, "x"]),
      '[{"a":[3,{"c":true,"d":null}],"b":1},"x"]',
    );
    assert.equal(canonicalize(Object.assign(Object.create(null), { z: 1, y: 2 })), '{"y":2,"z":1}');
    assert.equal(canonicalize({}), "{}");
    assert.equal(canonicalize([]), "[]");
  });

  it("refuses values that are not JSON, instead of coercing them", () => {
    refuses(undefined);
    refuses({ a: undefined });
    refuses([undefined]);
    refuses(() => 1);
    refuses(Symbol("s"));
    refuses(10n);
    refuses(new Date(0));
    refuses(new Map());
    refuses(new (class Point {})());
    refuses(new Uint8Array(2));
    refuses({ toJSON: () => "x", nested: new Date(0) });
    // biome-ignore lint/suspicious/noSparseArray: a sparse array is the input under test
    refuses([1, , 3]);
    refuses({ [Symbol("hidden")]: 1 });
  });

  it("refuses lone surrogates (§3.1: strings must be Unicode)", () => {
    refuses("\ud800");
    refuses("a\udfffb");
    refuses({ "\ud83d": 1 });
  });

  it("names where the refused value is, in the cause", () => {
    const cycle: Record<string, unknown> = { ok: [1, 2] };
    cycle.self = [{ back: cycle }];
    for (const [value, cause] of [
      [{ a: [1, { b: Number.NaN }] }, "non-finite number at $.a[1].b"],
      [{ list: Object.assign(new Array(3), { 0: 0, 2: 2 }) }, "sparse array at $.list[1]"],
      [[{ "\ud800": 1 }], "lone surrogate in string at $[0].\ud800"],
      [{ a: { b: new Date(0) } }, "not a plain object at $.a.b"],
      [cycle, "cycle at $.self[0].back"],
      [undefined, "undefined is not JSON at $"],
    ] as const) {
      assert.throws(
        () => canonicalize(value),
        (error: unknown) => isCountersignError(error, "validation_failed") && (error.cause as Error).message === cause,
        cause,
      );
    }
    // The path of a refusal does not leak into the next call.
    assert.equal(canonicalize({ a: [1, { b: 2 }] }), '{"a":[1,{"b":2}]}');
  });

  it("refuses cycles and very deep nesting, and allows shared references", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    refuses(cyclic);
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    refuses(deep);
    const shared = { x: 1 };
    assert.equal(canonicalize({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
  });

  it("agrees with JSON.parse and sorts keys at every level for arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const canonical = canonicalize(value);
        const reparsed = JSON.parse(canonical);
        // Idempotent: the canonical text of its own parse is itself.
        assert.equal(canonicalize(reparsed), canonical);
        // Same data as JSON.stringify would give, whitespace and order aside.
        assert.deepEqual(reparsed, JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });
});
