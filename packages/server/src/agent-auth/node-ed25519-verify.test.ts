import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import {
  ed25519Sign,
  ed25519Verify,
  fromHex,
  generateEd25519KeyPair,
  importEd25519PublicKey,
  utf8,
} from "@countersign/protocol";
import { nodeEd25519Verify } from "./node-ed25519-verify.ts";

interface WycheproofEd25519 {
  testGroups: { publicKey: { pk: string }; tests: { tcId: number; msg: string; sig: string; result: string }[] }[];
}

it("agrees with WebCrypto and Wycheproof on every Ed25519 case", async () => {
  const file = new URL("../../../../test-vectors/wycheproof/ed25519_test.json", import.meta.url);
  const vectors = JSON.parse(readFileSync(file, "utf8")) as WycheproofEd25519;
  let checked = 0;
  for (const group of vectors.testGroups) {
    const key = await importEd25519PublicKey(fromHex(group.publicKey.pk) ?? new Uint8Array());
    assert.ok(key);
    for (const test of group.tests) {
      const sig = fromHex(test.sig) ?? new Uint8Array();
      const msg = fromHex(test.msg) ?? new Uint8Array();
      const ours = await nodeEd25519Verify(key, sig, msg);
      assert.equal(ours, test.result === "valid", `tcId ${test.tcId}`);
      assert.equal(ours, await ed25519Verify(key, sig, msg), `tcId ${test.tcId} agrees with WebCrypto`);
      checked++;
    }
  }
  assert.ok(checked >= 150, `${checked} cases`);
});

it("answers false, never throws, for a private key, a short signature or another key", async () => {
  const pair = await generateEd25519KeyPair();
  const other = await generateEd25519KeyPair();
  const data = utf8("signed request base");
  const sig = await ed25519Sign(pair.privateKey, data);
  assert.equal(await nodeEd25519Verify(pair.publicKey, sig, data), true);
  assert.equal(await nodeEd25519Verify(pair.publicKey, sig, utf8("signed request basE")), false);
  assert.equal(await nodeEd25519Verify(other.publicKey, sig, data), false);
  assert.equal(await nodeEd25519Verify(pair.publicKey, sig.subarray(0, 63), data), false);
  assert.equal(await nodeEd25519Verify(pair.privateKey, sig, data), false);
});
