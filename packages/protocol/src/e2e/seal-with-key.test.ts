import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fromBase64Url, toBase64Url } from "../encoding/base64.ts";
import { utf8 } from "../encoding/bytes.ts";
import { fromHex, toHex } from "../encoding/hex.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { randomKey32 } from "./random-key32.ts";
import { openWithKey, sealWithKey, sealWithNonce } from "./seal-with-key.ts";

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  assert.ok(bytes, `bad hex in test data: ${text}`);
  return bytes;
}

const isDecryptFailure = (error: unknown) => isCountersignError(error, "e2e_decrypt_failed");

interface AeadTest {
  tcId: number;
  comment: string;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: "valid" | "invalid" | "acceptable";
}
interface AeadGroup {
  ivSize: number;
  keySize: number;
  tagSize: number;
  tests: AeadTest[];
}
const wycheproof = JSON.parse(
  readFileSync(new URL("../../../../test-vectors/wycheproof/chacha20_poly1305_test.json", import.meta.url), "utf8"),
) as { testGroups: AeadGroup[] };

describe("sealWithKey / openWithKey", () => {
  it("round-trips and uses the v1 envelope with a 12-byte nonce", () => {
    const key = randomKey32();
    const aad = utf8("countersign/test|usr_1|ak_1");
    const plaintext = randomKey32();
    const sealed = sealWithKey(key, plaintext, aad);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
    assert.equal(fromBase64Url(sealed.slice(3))?.length, 12 + 32 + 16);
    assert.deepEqual(openWithKey(key, sealed, aad), plaintext);
  });

  it("uses a fresh nonce each time", () => {
    const key = randomKey32();
    const aad = utf8("a");
    assert.notEqual(sealWithKey(key, utf8("same"), aad), sealWithKey(key, utf8("same"), aad));
  });

  it("refuses the wrong key, the wrong aad, a flipped bit and malformed strings", () => {
    const key = randomKey32();
    const aad = utf8("countersign/test|usr_1|ak_1");
    const sealed = sealWithKey(key, utf8("secret"), aad);
    assert.throws(() => openWithKey(randomKey32(), sealed, aad), isDecryptFailure);
    assert.throws(() => openWithKey(key, sealed, utf8("countersign/test|usr_1|ak_2")), isDecryptFailure);
    const bytes = fromBase64Url(sealed.slice(3));
    assert.ok(bytes);
    for (const at of [0, 12, bytes.length - 1]) {
      const tampered = bytes.slice();
      tampered[at] = (tampered[at] as number) ^ 1;
      assert.throws(() => openWithKey(key, `v1.${toBase64Url(tampered)}`, aad), isDecryptFailure);
    }
    for (const bad of ["", "v1.", `v2.${sealed.slice(3)}`, sealed.slice(3), `${sealed}!`, "v1.AAAA"]) {
      assert.throws(() => openWithKey(key, bad, aad), isDecryptFailure, bad);
    }
  });

  it("checks argument types and key length", () => {
    assert.throws(() => sealWithKey(new Uint8Array(16), utf8("x"), utf8("a")), TypeError);
    assert.throws(() => openWithKey(new Uint8Array(31), "v1.AAAA", utf8("a")), TypeError);
  });
});

describe("sealWithKey / openWithKey on Wycheproof ChaCha20-Poly1305", () => {
  // The envelope fixes a 96-bit nonce and a 256-bit key, so only those groups apply; the others
  // (other nonce sizes) cannot be expressed as a v1 string.
  const groups = wycheproof.testGroups.filter((g) => g.ivSize === 96 && g.keySize === 256 && g.tagSize === 128);
  const tests = groups.flatMap((g) => g.tests);
  assert.ok(tests.length > 200, "expected the Wycheproof 96-bit-nonce groups");

  it(`passes all ${tests.length} 96-bit-nonce vectors`, () => {
    for (const t of tests) {
      const envelope = `v1.${toBase64Url(hex(t.iv + t.ct + t.tag))}`;
      if (t.result === "valid") {
        assert.equal(sealWithNonce(hex(t.key), hex(t.iv), hex(t.msg), hex(t.aad)), envelope, `tcId ${t.tcId}`);
        assert.equal(toHex(openWithKey(hex(t.key), envelope, hex(t.aad))), t.msg, `tcId ${t.tcId}`);
      } else {
        assert.throws(() => openWithKey(hex(t.key), envelope, hex(t.aad)), isDecryptFailure, `tcId ${t.tcId}`);
      }
    }
  });
});
