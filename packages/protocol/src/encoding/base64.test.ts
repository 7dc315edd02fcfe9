import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBase64, fromBase64Url, toBase64, toBase64Url } from "./base64.ts";
import { utf8 } from "./bytes.ts";

// Node's Buffer is the reference: an independent encoder of the same RFC 4648 alphabets.
const reference = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);

describe("base64 and base64url (RFC 4648 §4, §5)", () => {
  it("encodes the RFC's §10 test vectors, padded and unpadded", () => {
    const cases: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [input, output] of cases) {
      assert.equal(toBase64(utf8(input)), output);
      assert.equal(toBase64Url(utf8(input)), output.replace(/=+$/, ""));
      assert.deepEqual(fromBase64(output), utf8(input));
      assert.deepEqual(fromBase64Url(output.replace(/=+$/, "")), utf8(input));
    }
  });

  it("agrees with an independent encoder at every length across the short and the long path", () => {
    // Every byte value in every position of a 3-byte group, and every remainder, on both sides
    // of the length where encoding switches to the long-input path.
    for (let length = 0; length <= 400; length++) {
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) bytes[i] = (i * 89 + length * 7) & 0xff;
      const standard = reference(bytes).toString("base64");
      const url = reference(bytes).toString("base64url");
      assert.equal(toBase64(bytes), standard, `base64 of ${length} bytes`);
      assert.equal(toBase64Url(bytes), url, `base64url of ${length} bytes`);
      assert.deepEqual(fromBase64(standard), bytes);
      assert.deepEqual(fromBase64Url(url), bytes);
    }
    const all = Uint8Array.from({ length: 3 * 256 }, (_, i) => (i % 3 === 0 ? i / 3 : 255 - (i % 256)));
    assert.equal(toBase64Url(all), reference(all).toString("base64url"));
    assert.equal(toBase64(all), reference(all).toString("base64"));
  });

  it("encodes a view into a larger buffer from its own offset only", () => {
    const backing = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    for (const [offset, length] of [
      [1, 10],
      [7, 200],
      [100, 301],
    ] as const) {
      const view = backing.subarray(offset, offset + length);
      assert.equal(toBase64Url(view), reference(view).toString("base64url"));
    }
  });

  it("refuses what is not canonical", () => {
    for (const text of ["Zg", "Zg=", "Zh==", "Z===", "Zm9v=", "Zm 9v", "Zm9v\u00e9AAA"]) {
      assert.equal(fromBase64(text), null, text);
    }
    for (const text of ["Z", "Zh", "Zm9=", "Zm+v", "Zm/v", "Zg==", "Zm9vYmF\u0100"]) {
      assert.equal(fromBase64Url(text), null, text);
    }
  });
});
