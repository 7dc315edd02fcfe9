import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import { describe, it } from "node:test";
import { toHex } from "@countersign/protocol";
import { blindIndexInfo } from "./blind-index.ts";
import { DERIVED_KEY_PURPOSES, derivedKeyInfo, deriveKey } from "./derive-key.ts";

const root = Uint8Array.from({ length: 32 }, (_, i) => i);

describe("deriveKey", () => {
  it("equals HKDF-SHA-256(root, no salt, 'countersign/key/v1/<purpose>') computed with node:crypto directly", () => {
    for (const purpose of DERIVED_KEY_PURPOSES) {
      const expected = new Uint8Array(hkdfSync("sha256", root, new Uint8Array(0), `countersign/key/v1/${purpose}`, 32));
      assert.deepEqual(deriveKey(root, purpose), expected, purpose);
    }
  });

  it("matches pinned values, so a change to the derivation cannot go unnoticed", () => {
    // Computed with Python's hmac/hashlib, an implementation independent of Node and OpenSSL.
    const pinned: Record<(typeof DERIVED_KEY_PURPOSES)[number], string> = {
      "session-cookie": "919ccab5a855c11cce72f180e969cd0d1eb0ce154e0ecaece68a4ab07530191a",
      "session-digest": "edecf558a27647e7e81f60c3b1ff1dfee31e03fd5f9041044aec2d94acf1d907",
      "signature-nonce-digest": "9eb283703edce5c6d5f0dfa3a45167d64f77f77f6b43c6b821f87175124a399f",
      "one-time-code-digest": "a6bfa358d4ec0f7952d783b2d9f9ce10dab725d7921e5c17766d1346468f199e",
      "auth-subject-digest": "2b8ed6a078cc54a1539bbd5b4d3c549b7e1564df1d4759c998688894c353d321",
      "agent-enrollment-code-digest": "78a23e3e762b1c2143a291d0378729658725fc7c527780c0e9b55b506c880319",
      "agent-bearer-token-digest": "851b6c1105af6ec6ab4be644fd665dd650445a5214fa7a2fec56944eea6caf2c",
      "idempotency-response": "d2cc2125132db9d9b911444a9e5a5bfb2e4565b5d0b4f7ce8b7e621190230f66",
    };
    for (const purpose of DERIVED_KEY_PURPOSES) assert.equal(toHex(deriveKey(root, purpose)), pinned[purpose], purpose);
  });

  it("gives the same key for the same inputs and unrelated keys for different purposes", () => {
    assert.deepEqual(deriveKey(root, "session-cookie"), deriveKey(root, "session-cookie"));
    const seen = new Set<string>();
    for (const purpose of DERIVED_KEY_PURPOSES) {
      const key = deriveKey(root, purpose);
      seen.add(toHex(key));
      // Unrelated as MAC keys too: the same message gives different tags.
      seen.add(createHmac("sha256", key).update("same message").digest("hex"));
    }
    assert.equal(DERIVED_KEY_PURPOSES.length >= 2, true);
    assert.equal(seen.size, DERIVED_KEY_PURPOSES.length * 2);
  });

  it("depends on every byte of the root secret", () => {
    const base = toHex(deriveKey(root, "session-digest"));
    for (let i = 0; i < root.length; i++) {
      const other = Uint8Array.from(root);
      other[i] = (other[i] as number) ^ 1;
      assert.notEqual(toHex(deriveKey(other, "session-digest")), base, `byte ${i}`);
    }
  });

  it("uses info strings disjoint from the blind-index ones", () => {
    for (const purpose of DERIVED_KEY_PURPOSES) {
      assert.ok(derivedKeyInfo(purpose).startsWith("countersign/key/v1/"));
      assert.ok(!derivedKeyInfo(purpose).startsWith("countersign/blind-index/"));
    }
    assert.ok(blindIndexInfo("email").startsWith("countersign/blind-index/v1/"));
  });

  it("accepts lengths from 16 to 64 bytes and refuses others", () => {
    assert.equal(deriveKey(root, "session-cookie", 16).length, 16);
    assert.equal(deriveKey(root, "session-cookie", 64).length, 64);
    for (const length of [0, 15, 65, 32.5, Number.NaN]) {
      assert.throws(() => deriveKey(root, "session-cookie", length), RangeError, String(length));
    }
  });

  it("refuses root secrets shorter than 32 bytes and accepts longer ones", () => {
    assert.throws(
      () => deriveKey(new Uint8Array(31), "session-cookie"),
      /rootSecret must be at least 32 bytes, got 31/,
    );
    assert.throws(
      () => deriveKey("secret" as unknown as Uint8Array, "session-cookie"),
      /rootSecret must be a Uint8Array/,
    );
    assert.equal(deriveKey(new Uint8Array(64).fill(3), "session-cookie").length, 32);
  });

  it("refuses purposes outside the allowlist", () => {
    for (const purpose of ["", "email", "session-cookie ", "SESSION-COOKIE", "__proto__", "toString"]) {
      assert.throws(() => deriveKey(root, purpose as never), /unknown key purpose/, purpose);
    }
  });
});
