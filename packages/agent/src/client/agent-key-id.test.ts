import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exportEd25519PublicKey, generateEd25519KeyPair, toBase64Url } from "@countersign/protocol";
import { calculateJwkThumbprint } from "jose";
import { agentKeyId } from "./agent-key-id.ts";

describe("agentKeyId", () => {
  it("is the RFC 7638 thumbprint of RFC 8037 §A.3's key", () => {
    assert.equal(
      agentKeyId("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
      "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    );
  });

  it("agrees with jose's calculateJwkThumbprint, from bytes or base64url", async () => {
    for (let i = 0; i < 5; i += 1) {
      const { publicKey } = await generateEd25519KeyPair();
      const raw = await exportEd25519PublicKey(publicKey);
      const expected = await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: toBase64Url(raw) }, "sha256");
      assert.equal(agentKeyId(raw), expected);
      assert.equal(agentKeyId(toBase64Url(raw)), expected);
    }
  });

  it("refuses anything but 32 bytes", () => {
    assert.throws(() => agentKeyId(new Uint8Array(31)), TypeError);
    assert.throws(() => agentKeyId("not base64url!"), TypeError);
    assert.throws(() => agentKeyId(toBase64Url(new Uint8Array(33))), TypeError);
  });
});
