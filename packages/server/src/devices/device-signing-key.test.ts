import assert from "node:assert/strict";
import { createECDH, generateKeyPairSync, sign } from "node:crypto";
import { describe, it } from "node:test";
import { utf8 } from "@countersign/protocol";
import { deviceAttachMessage } from "./device-attach-message.ts";
import { parseDeviceSigningKey, verifyDeviceSignature } from "./device-signing-key.ts";

const subtle = globalThis.crypto.subtle;

async function webCryptoDevice() {
  const keys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const spki = new Uint8Array(await subtle.exportKey("spki", keys.publicKey));
  return { keys, spki };
}

describe("device signing keys", () => {
  it("accepts a WebCrypto P-256 SPKI as it is exported", async () => {
    const { spki } = await webCryptoDevice();
    assert.deepEqual(parseDeviceSigningKey(spki), spki);
  });

  it("refuses other curves, other key types, a bare point and garbage", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({
      format: "der",
      type: "spki",
    });
    const ed = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" });
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    for (const key of [p384, ed, ecdh.getPublicKey(), new Uint8Array(91), new Uint8Array(0)]) {
      assert.equal(parseDeviceSigningKey(new Uint8Array(key)), null);
    }
  });

  it("verifies WebCrypto's raw r‖s signature over the attach message, and nothing else", async () => {
    const { keys, spki } = await webCryptoDevice();
    const message = deviceAttachMessage("ses_AAAAAAAAAAAAAAAAAAAAAA", "dev_BBBBBBBBBBBBBBBBBBBBBB");
    assert.equal(
      new TextDecoder().decode(message),
      '{"device_id":"dev_BBBBBBBBBBBBBBBBBBBBBB","purpose":"countersign/device-attach","session":"ses_AAAAAAAAAAAAAAAAAAAAAA","v":1}',
      "RFC 8785: keys sorted, no spaces",
    );
    const signature = new Uint8Array(
      await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new Uint8Array(message)),
    );
    assert.equal(signature.length, 64);
    assert.equal(verifyDeviceSignature(spki, message, signature), true);
    assert.equal(verifyDeviceSignature(spki, utf8("another message"), signature), false);
    const flipped = signature.slice();
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    assert.equal(verifyDeviceSignature(spki, message, flipped), false);
    assert.equal(verifyDeviceSignature(spki, message, signature.slice(0, 63)), false);
    const other = await webCryptoDevice();
    assert.equal(verifyDeviceSignature(other.spki, message, signature), false);
  });

  it("refuses a DER-encoded signature: the wire form is WebCrypto's raw one", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
    const message = utf8("m");
    const der = new Uint8Array(sign("sha256", message, { key: privateKey, dsaEncoding: "der" }));
    const raw = new Uint8Array(sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" }));
    assert.equal(verifyDeviceSignature(spki, message, der), false);
    assert.equal(verifyDeviceSignature(spki, message, raw), true);
  });
});
