import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accountKeyFingerprint } from "./account-key-fingerprint.ts";
import { accountPublicKeyOf, generateAccountKeyPair } from "./account-key-pair.ts";

const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));

describe("the public key of an account private key", () => {
  it("is X25519 of the base point: RFC 7748 §6.1's Alice and Bob", () => {
    assert.deepEqual(
      accountPublicKeyOf(hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")),
      hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
    );
    assert.deepEqual(
      accountPublicKeyOf(hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")),
      hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
    );
  });

  it("is the public key generated with it, and gives the same fingerprint", () => {
    const pair = generateAccountKeyPair();
    assert.deepEqual(accountPublicKeyOf(pair.privateKey), pair.publicKey);
    assert.equal(accountKeyFingerprint(accountPublicKeyOf(pair.privateKey)), accountKeyFingerprint(pair.publicKey));
    assert.notDeepEqual(accountPublicKeyOf(generateAccountKeyPair().privateKey), pair.publicKey);
  });

  it("leaves the private key as it was and refuses one that is not 32 bytes", () => {
    const pair = generateAccountKeyPair();
    const copy = pair.privateKey.slice();
    accountPublicKeyOf(pair.privateKey);
    assert.deepEqual(pair.privateKey, copy);
    assert.throws(() => accountPublicKeyOf(new Uint8Array(31)), TypeError);
    assert.throws(() => accountPublicKeyOf(new Uint8Array(33)), TypeError);
  });
});
