import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HKDF_SHA256_MAX_LENGTH, hkdfSha256 } from "./hkdf.ts";
import { type HkdfTest, hex, loadWycheproof } from "./test-support/wycheproof.ts";

function range(from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from + 1);
  for (let i = 0; i < out.length; i++) out[i] = from + i;
  return out;
}

describe("HKDF-SHA-256: RFC 5869 Appendix A", () => {
  it("A.1: basic test case", () => {
    const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), range(0x00, 0x0c), range(0xf0, 0xf9), 42);
    assert.deepEqual(okm, hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
  });

  it("A.2: longer inputs and outputs", () => {
    const okm = hkdfSha256(range(0x00, 0x4f), range(0x60, 0xaf), range(0xb0, 0xff), 82);
    assert.deepEqual(
      okm,
      hex(
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c" +
          "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71" +
          "cc30c58179ec3e87c14c01d5c1f3434f1d87",
      ),
    );
  });

  it("A.3: zero-length salt and info", () => {
    const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0), 42);
    assert.deepEqual(okm, hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"));
  });
});

describe("HKDF-SHA-256: Wycheproof hkdf_sha256_test.json", () => {
  const file = loadWycheproof<HkdfTest>("hkdf_sha256_test.json");

  it("derives every valid case and refuses every output size over 255 * HashLen", () => {
    assert.equal(file.algorithm, "HKDF-SHA-256");
    let total = 0;
    let valid = 0;
    let refused = 0;
    for (const group of file.testGroups) {
      for (const test of group.tests) {
        total++;
        const label = `tcId ${test.tcId} (${test.comment}; ${test.flags.join(", ")})`;
        const derive = () => hkdfSha256(hex(test.ikm), hex(test.salt), hex(test.info), test.size);
        if (test.result === "valid") {
          assert.deepEqual(derive(), hex(test.okm), label);
          valid++;
        } else {
          // RFC 5869 §2.3: L <= 255*HashLen.
          assert.equal(test.result, "invalid", label);
          assert.ok(test.flags.includes("SizeTooLarge"), label);
          assert.ok(test.size > HKDF_SHA256_MAX_LENGTH, label);
          assert.throws(derive, RangeError, label);
          refused++;
        }
      }
    }
    assert.equal(total, file.numberOfTests);
    assert.deepEqual({ total, valid, refused }, { total: 86, valid: 83, refused: 3 });
  });
});

describe("HKDF-SHA-256: inputs", () => {
  const ikm = new Uint8Array(32).fill(1);
  const empty = new Uint8Array(0);

  it("derives the largest output RFC 5869 allows, 8,160 bytes", () => {
    assert.equal(hkdfSha256(ikm, empty, empty, 8160).length, 8160);
  });

  it("refuses lengths that are zero, negative, fractional or too large", () => {
    for (const length of [0, -1, 1.5, Number.NaN, 8161, 2 ** 53]) {
      assert.throws(() => hkdfSha256(ikm, empty, empty, length), RangeError, String(length));
    }
  });

  it("refuses info longer than 1,024 bytes and accepts exactly 1,024", () => {
    assert.equal(hkdfSha256(ikm, empty, new Uint8Array(1024), 32).length, 32);
    assert.throws(() => hkdfSha256(ikm, empty, new Uint8Array(1025), 32), /info must be at most 1024 bytes/);
  });

  it("refuses byte arguments that are not Uint8Arrays, naming them", () => {
    assert.throws(() => hkdfSha256("k" as unknown as Uint8Array, empty, empty, 32), /ikm must be a Uint8Array/);
    assert.throws(() => hkdfSha256(ikm, null as unknown as Uint8Array, empty, 32), /salt must be a Uint8Array/);
    assert.throws(() => hkdfSha256(ikm, empty, [1] as unknown as Uint8Array, 32), /info must be a Uint8Array/);
  });

  it("returns a plain Uint8Array", () => {
    assert.equal(Object.getPrototypeOf(hkdfSha256(ikm, empty, empty, 32)), Uint8Array.prototype);
  });
});
