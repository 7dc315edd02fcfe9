import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { utf8 } from "../encoding/bytes.ts";
import { fromHex, toHex } from "../encoding/hex.ts";
import { hkdfSha256 } from "./hkdf-sha256.ts";
import { pairingTransferKey } from "./pairing-transfer-key.ts";
import { recoveryKeyFromSecret } from "./recovery-key-from-secret.ts";

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  assert.ok(bytes, `bad hex in test data: ${text}`);
  return bytes;
}

interface HkdfTest {
  tcId: number;
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
  result: "valid" | "invalid";
}
const wycheproof = JSON.parse(
  readFileSync(new URL("../../../../test-vectors/wycheproof/hkdf_sha256_test.json", import.meta.url), "utf8"),
) as { testGroups: { tests: HkdfTest[] }[] };

describe("hkdfSha256 on Wycheproof HKDF-SHA256", () => {
  const tests = wycheproof.testGroups.flatMap((g) => g.tests);
  it(`passes all ${tests.length} vectors`, () => {
    for (const t of tests) {
      if (t.result === "valid") {
        assert.equal(toHex(hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), t.size)), t.okm, `tcId ${t.tcId}`);
      } else {
        // Invalid cases ask for more than 255 × 32 bytes (RFC 5869 §2.3).
        assert.throws(() => hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), t.size), `tcId ${t.tcId}`);
      }
    }
  });
});

describe("the e2e key derivations use HKDF-SHA256 with their documented parameters", () => {
  it("recoveryKeyFromSecret: salt countersign/recovery-key/v1, info user id", () => {
    const secret = hex("00112233445566778899aabbccddeeff01234567");
    const key = recoveryKeyFromSecret(secret, "usr_a");
    assert.deepEqual(key, hkdfSha256(secret, utf8("countersign/recovery-key/v1"), utf8("usr_a"), 32));
    assert.notDeepEqual(recoveryKeyFromSecret(secret, "usr_b"), key);
    assert.throws(() => recoveryKeyFromSecret(new Uint8Array(16), "usr_a"), TypeError);
  });

  it("pairingTransferKey: ikm ISK, salt sid, info countersign/pairing-auk/v1", () => {
    const isk = new Uint8Array(64).fill(7);
    const sid = new Uint8Array(16).fill(9);
    const key = pairingTransferKey(isk, sid);
    assert.deepEqual(key, hkdfSha256(isk, sid, utf8("countersign/pairing-auk/v1"), 32));
    assert.notDeepEqual(pairingTransferKey(isk, new Uint8Array(16)), key);
    assert.throws(() => pairingTransferKey(new Uint8Array(32), sid), TypeError);
  });
});
