import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { describe, it } from "node:test";
import { decryptRfc8291, deriveRfc8291Keys } from "./rfc8291-decrypt.ts";

const b64 = (value: string) => Buffer.from(value, "base64url");

// RFC 8291 §5 (the worked example; intermediate values in Appendix A).
const RFC = {
  plaintext: "When I grow up, I want to be a watermelon",
  asPrivate: b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"),
  asPublic: b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"),
  uaPrivate: b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"),
  uaPublic: b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
  authSecret: b64("BTBZMqHH6r4Tts7J_aSIgg"),
  salt: b64("DGv6ra1nlYgDCS1FRnbzlw"),
  ecdhSecret: b64("kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"),
  prkKey: b64("Snr3JMxaHVDXHWJn5wdC52WjpCtd2EIEGBykDcZW32k"),
  keyInfo: b64(
    "V2ViUHVzaDogaW5mbwAEJXGyvs3942BVGq8e0PTNNmwRzr5VX4m8t7GGpTM5FzFo7OLr4BhZe9MEebhuPI-OztV3ylkYfpJGmQ22ggCLDgT-M_SrDepxkU21WCP3O1SUj0EwbZIHMtu5pZpTKGSCIA5Zent7wmC6HCJ5mFgJkuk5cwAvMBKiiujwa7t45ewP",
  ),
  ikm: b64("S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg"),
  prk: b64("09_eUZGrsvxChDCGRCdkLiDXrReGOEVeSCdCcPBSJSc"),
  cek: b64("oIhVW04MRdy2XN9CiKLxTg"),
  nonce: b64("4h_95klXJ5E_qnoN"),
  body: b64(
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
  ),
};

const subscriber = { privateKey: RFC.uaPrivate, publicKey: RFC.uaPublic, authSecret: RFC.authSecret };

describe("the RFC 8291 decryptor of the stub push service", () => {
  it("derives the RFC 8291 §5 example's public keys from its private keys", () => {
    for (const [priv, pub] of [
      [RFC.asPrivate, RFC.asPublic],
      [RFC.uaPrivate, RFC.uaPublic],
    ] as const) {
      const ecdh = createECDH("prime256v1");
      ecdh.setPrivateKey(priv);
      assert.deepEqual(ecdh.getPublicKey(), pub);
    }
  });

  it("computes the example's ECDH secret", () => {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(RFC.uaPrivate);
    assert.deepEqual(ecdh.computeSecret(RFC.asPublic), RFC.ecdhSecret);
  });

  it("derives every intermediate value of Appendix A byte for byte", () => {
    const keys = deriveRfc8291Keys({
      ecdhSecret: RFC.ecdhSecret,
      authSecret: RFC.authSecret,
      uaPublic: RFC.uaPublic,
      asPublic: RFC.asPublic,
      salt: RFC.salt,
    });
    assert.deepEqual(keys.prkKey, RFC.prkKey);
    assert.deepEqual(keys.keyInfo, RFC.keyInfo);
    assert.deepEqual(keys.ikm, RFC.ikm);
    assert.deepEqual(keys.prk, RFC.prk);
    assert.deepEqual(keys.cek, RFC.cek);
    assert.deepEqual(keys.nonce, RFC.nonce);
  });

  it("decrypts the example's message to its plaintext, reading the header's salt, rs and keyid", () => {
    const out = decryptRfc8291(RFC.body, subscriber);
    assert.equal(out.plaintext.toString("utf8"), RFC.plaintext);
    assert.deepEqual(out.salt, RFC.salt);
    assert.equal(out.recordSize, 4096);
    assert.deepEqual(out.asPublic, RFC.asPublic);
    assert.deepEqual(out.keys.cek, RFC.cek);
  });

  it("refuses the example's message with one ciphertext byte changed", () => {
    const tampered = Buffer.from(RFC.body);
    tampered[100] = (tampered[100] as number) ^ 1;
    assert.throws(() => decryptRfc8291(tampered, subscriber));
  });

  it("refuses the example's message under another auth secret", () => {
    assert.throws(() => decryptRfc8291(RFC.body, { ...subscriber, authSecret: Buffer.alloc(16, 7) }));
  });
});
