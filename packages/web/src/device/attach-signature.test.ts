import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBase64Url } from "@countersign/protocol";
import { attachMessage, attachSignature } from "./attach-signature.ts";
import { generateDeviceKeys } from "./device-keys.ts";

describe("the attach signature", () => {
  it("signs the JCS of the purpose, session handle and device id", () => {
    assert.equal(
      new TextDecoder().decode(attachMessage("sess_1", "dev_1")),
      '{"device_id":"dev_1","purpose":"countersign/device-attach","session":"sess_1","v":1}',
    );
  });

  it("is a 64-byte raw ECDSA P-256 signature that verifies with the device's public key", async () => {
    const { signing } = await generateDeviceKeys();
    const signature = fromBase64Url(await attachSignature(signing.privateKey, "sess_1", "dev_1"));
    assert.equal(signature?.length, 64);
    const verify = (message: Uint8Array) =>
      crypto.subtle.verify(
        { name: "ECDSA", hash: "SHA-256" },
        signing.publicKey,
        signature as Uint8Array<ArrayBuffer>,
        message as Uint8Array<ArrayBuffer>,
      );
    assert.equal(await verify(attachMessage("sess_1", "dev_1")), true);
    assert.equal(await verify(attachMessage("sess_2", "dev_1")), false, "bound to its session");
  });

  it("keeps the private keys non-extractable", async () => {
    const { signing, wrapping } = await generateDeviceKeys();
    assert.equal(signing.privateKey.extractable, false);
    assert.equal(wrapping.extractable, false);
    await assert.rejects(crypto.subtle.exportKey("raw", wrapping));
  });
});
