import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fromHex, toHex } from "../encoding/hex.ts";
import {
  ed25519Sign,
  ed25519Verify,
  exportEd25519PublicKey,
  importEd25519PublicKey,
  importEd25519Seed,
} from "./ed25519.ts";

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  assert.ok(bytes, `bad hex in test data: ${text}`);
  return bytes;
}

// RFC 8032 §7.1, TEST 1 – TEST 3.
const RFC8032 = [
  {
    name: "TEST 1 (empty message)",
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2 (1-octet message)",
    secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3 (2-octet message)",
    secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
] as const;

describe("Ed25519 known answers (RFC 8032 §7.1)", () => {
  for (const vector of RFC8032) {
    it(`signs and verifies ${vector.name}`, async () => {
      const privateKey = await importEd25519Seed(hex(vector.secret), hex(vector.public));
      const signature = await ed25519Sign(privateKey, hex(vector.message));
      assert.equal(toHex(signature), vector.signature);

      const publicKey = await importEd25519PublicKey(hex(vector.public));
      assert.ok(publicKey);
      assert.equal(toHex(await exportEd25519PublicKey(publicKey)), vector.public);
      assert.equal(await ed25519Verify(publicKey, hex(vector.signature), hex(vector.message)), true);

      const tampered = hex(vector.signature);
      tampered[0] = (tampered[0] as number) ^ 1;
      assert.equal(await ed25519Verify(publicKey, tampered, hex(vector.message)), false);
      assert.equal(await ed25519Verify(publicKey, hex(vector.signature), Uint8Array.of(1, 2, 3)), false);
    });
  }
});

interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: Array<{
    publicKey: { pk: string };
    tests: Array<{ tcId: number; comment: string; flags: string[]; msg: string; sig: string; result: string }>;
  }>;
}

// Vendored at the repository root: test-vectors/wycheproof.
const WYCHEPROOF_PATH = new URL("../../../../test-vectors/wycheproof/ed25519_test.json", import.meta.url);

describe("Ed25519 verification against Wycheproof (ed25519_test.json)", () => {
  const file = JSON.parse(readFileSync(WYCHEPROOF_PATH, "utf8")) as WycheproofFile;

  it("has the expected test file", () => {
    assert.equal(file.algorithm, "EDDSA");
    const count = file.testGroups.reduce((n, group) => n + group.tests.length, 0);
    assert.equal(count, file.numberOfTests);
    assert.ok(count > 100);
  });

  it("accepts every valid case and rejects every invalid one", async () => {
    const wrong: string[] = [];
    let valid = 0;
    let invalid = 0;
    for (const group of file.testGroups) {
      const key = await importEd25519PublicKey(hex(group.publicKey.pk));
      for (const test of group.tests) {
        assert.ok(test.result === "valid" || test.result === "invalid", `tcId ${test.tcId}: ${test.result}`);
        const sig = fromHex(test.sig);
        const verified = key !== null && sig !== null && (await ed25519Verify(key, sig, hex(test.msg)));
        if (test.result === "valid") valid++;
        else invalid++;
        if (verified !== (test.result === "valid"))
          wrong.push(`tcId ${test.tcId} (${test.flags.join(",")}): ${test.comment}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(valid > 0 && invalid > 0);
  });
});

describe("ed25519Verify input checks", () => {
  it("returns false, never throws, for a wrong-length signature or a key of another type", async () => {
    const [vector] = RFC8032;
    const publicKey = await importEd25519PublicKey(hex(vector.public));
    assert.ok(publicKey);
    assert.equal(await ed25519Verify(publicKey, hex(vector.signature).subarray(0, 63), new Uint8Array(0)), false);
    const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    assert.equal(await ed25519Verify(hmac, hex(vector.signature), new Uint8Array(0)), false);
  });

  it("refuses a public key that is not 32 bytes", async () => {
    assert.equal(await importEd25519PublicKey(new Uint8Array(31)), null);
    assert.equal(await importEd25519PublicKey(new Uint8Array(33)), null);
  });
});
