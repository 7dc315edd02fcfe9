import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { toBase64 } from "../encoding/base64.ts";
import { utf8 } from "../encoding/bytes.ts";
import { createContentDigest } from "./create-content-digest.ts";
import { verifyContentDigest } from "./verify-content-digest.ts";

const HELLO = utf8('{"hello": "world"}');
// RFC 9530 §2 and Appendix B: the digests of {"hello": "world"}.
const HELLO_SHA256 = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
const HELLO_SHA512 =
  "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
// RFC 9421 Appendix B.2: the test-response's Content-Digest of {"message": "good dog"}.
const GOOD_DOG_SHA512 =
  "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:";

describe("createContentDigest (RFC 9530 §2)", () => {
  it('reproduces the RFC 9530 examples for {"hello": "world"}', async () => {
    assert.equal(await createContentDigest(HELLO), HELLO_SHA256);
    assert.equal(await createContentDigest(HELLO, ["sha-512"]), HELLO_SHA512);
    assert.equal(await createContentDigest(HELLO, ["sha-256", "sha-512"]), `${HELLO_SHA256}, ${HELLO_SHA512}`);
  });

  it("reproduces the RFC 9421 B.2 test-response digest", async () => {
    assert.equal(await createContentDigest(utf8('{"message": "good dog"}'), ["sha-512"]), GOOD_DOG_SHA512);
  });

  it("digests an empty body", async () => {
    assert.equal(
      await createContentDigest(new Uint8Array(0)),
      "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
    );
  });

  it("refuses no algorithm, an unknown one or a repeated one", async () => {
    await assert.rejects(createContentDigest(HELLO, []), TypeError);
    await assert.rejects(createContentDigest(HELLO, ["md5" as "sha-256"]), TypeError);
    await assert.rejects(createContentDigest(HELLO, ["sha-256", "sha-256"]), TypeError);
    await assert.rejects(createContentDigest("body" as unknown as Uint8Array), TypeError);
  });
});

describe("verifyContentDigest (RFC 9530 §2, §3)", () => {
  it("accepts the RFC examples, alone or together, in any order", async () => {
    assert.equal(await verifyContentDigest(HELLO_SHA256, HELLO), true);
    assert.equal(await verifyContentDigest(HELLO_SHA512, HELLO), true);
    assert.equal(await verifyContentDigest(`${HELLO_SHA512},${HELLO_SHA256}`, HELLO), true);
    assert.equal(await verifyContentDigest(GOOD_DOG_SHA512, utf8('{"message": "good dog"}')), true);
  });

  it("ignores algorithms it does not support but needs one it does", async () => {
    const md5 = "md5=:Sd/dVLAcvNLSq16eXua5uQ==:";
    assert.equal(await verifyContentDigest(`${md5}, ${HELLO_SHA256}`, HELLO), true);
    assert.equal(await verifyContentDigest(`unixsum=1234, ${HELLO_SHA512}`, HELLO), true);
    assert.equal(await verifyContentDigest(md5, HELLO), false);
    assert.equal(await verifyContentDigest("", HELLO), false);
  });

  it("requires every supported digest present to match", async () => {
    const wrong512 = await createContentDigest(utf8("other"), ["sha-512"]);
    assert.equal(await verifyContentDigest(`${HELLO_SHA256}, ${wrong512}`, HELLO), false);
  });

  it("rejects a different body", async () => {
    assert.equal(await verifyContentDigest(HELLO_SHA256, utf8('{"hello": "world!"}')), false);
    assert.equal(await verifyContentDigest(HELLO_SHA256, new Uint8Array(0)), false);
  });

  for (const [label, value] of [
    ["a token instead of a byte sequence", "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE"],
    ["a digest of the wrong length", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9D:"],
    ["unpadded base64", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE:"],
    ["a repeated algorithm", `${HELLO_SHA256}, ${HELLO_SHA256}`],
    ["an inner list", "sha-256=(:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:)"],
    ["the legacy Digest syntax", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="],
    ["garbage", "\u0000\u00ff;;=="],
  ] as const) {
    it(`rejects ${label}`, async () => {
      assert.equal(await verifyContentDigest(value, HELLO), false);
    });
  }

  it("never throws, even on values of the wrong type", async () => {
    assert.equal(await verifyContentDigest(undefined as unknown as string, HELLO), false);
    assert.equal(await verifyContentDigest(HELLO_SHA256, "body" as unknown as Uint8Array), false);
  });

  it("accepts its own digests and rejects any one-byte change of the body", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.subarray(["sha-256", "sha-512"] as const, { minLength: 1 }),
        async (body, at, delta, algorithms) => {
          const value = await createContentDigest(body, algorithms);
          assert.equal(await verifyContentDigest(value, body), true);
          const changed = body.slice();
          const index = at % changed.length;
          changed[index] = ((changed[index] as number) + delta) & 0xff;
          assert.equal(await verifyContentDigest(value, changed), false);
        },
      ),
    );
  });

  it("rejects a digest with any one bit flipped", async () => {
    const digest = await crypto.subtle.digest("SHA-256", HELLO as Uint8Array<ArrayBuffer>);
    for (let bit = 0; bit < 256; bit += 37) {
      const flipped = new Uint8Array(digest);
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      assert.equal(await verifyContentDigest(`sha-256=:${toBase64(flipped)}:`, HELLO), false);
    }
  });
});
