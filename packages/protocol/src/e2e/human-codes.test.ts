import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { x25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "../crypto/sha2.ts";
import { concatBytes, utf8 } from "../encoding/bytes.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { accountKeyFingerprint } from "./account-key-fingerprint.ts";
import { generateAccountKeyPair } from "./account-key-pair.ts";
import { base32Encode } from "./base32.ts";
import { accountPrivateKeyAad, recoveryAukAad } from "./e2e-aad.ts";
import { generatePairingCode, normalizePairingCode } from "./pairing-code.ts";
import { randomKey32 } from "./random-key32.ts";
import { generateRecoverySecret, parseRecoverySecret } from "./recovery-secret.ts";

const isSecretInvalid = (error: unknown) => isCountersignError(error, "recovery_secret_invalid");
const isCodeInvalid = (error: unknown) => isCountersignError(error, "pairing_code_invalid");

describe("base32 (RFC 4648 §10 test vectors, unpadded)", () => {
  it("encodes the RFC's examples", () => {
    const cases: [string, string][] = [
      ["", ""],
      ["f", "MY"],
      ["fo", "MZXQ"],
      ["foo", "MZXW6"],
      ["foob", "MZXW6YQ"],
      ["fooba", "MZXW6YTB"],
      ["foobar", "MZXW6YTBOI"],
    ];
    for (const [input, output] of cases) assert.equal(base32Encode(utf8(input)), output);
  });
});

describe("recovery secret", () => {
  it("is 160 random bits as 8 groups of 4 base32 characters", () => {
    const secret = generateRecoverySecret();
    assert.match(secret, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/);
    const bytes = parseRecoverySecret(secret);
    assert.equal(bytes.length * 8, 160);
    assert.ok(bytes.length * 8 >= 128);
    assert.equal(base32Encode(bytes), secret.replaceAll("-", ""));
    assert.notEqual(generateRecoverySecret(), secret);
  });

  it("parses what a person types: any case, spaces, dashes, line breaks", () => {
    const secret = generateRecoverySecret();
    const bytes = parseRecoverySecret(secret);
    const compact = secret.replaceAll("-", "");
    for (const typed of [
      secret.toLowerCase(),
      compact,
      compact.toLowerCase(),
      secret.replaceAll("-", " "),
      `  ${secret.replaceAll("-", " - ")}\n`,
      `${compact.slice(0, 16)}\n${compact.slice(16)}`,
    ]) {
      assert.deepEqual(parseRecoverySecret(typed), bytes, typed);
    }
  });

  it("refuses a wrong length or characters outside the alphabet", () => {
    const compact = generateRecoverySecret().replaceAll("-", "");
    for (const bad of [
      "",
      compact.slice(0, 31),
      `${compact}A`,
      `${compact.slice(0, 31)}0`,
      `${compact.slice(0, 31)}1`,
      `${compact.slice(0, 31)}8`,
      `${compact.slice(0, 31)}=`,
      `${compact.slice(0, 31)}É`,
      `${compact.slice(0, 30)}_A`,
    ]) {
      assert.throws(() => parseRecoverySecret(bad), isSecretInvalid, bad);
    }
    assert.throws(() => parseRecoverySecret(42 as unknown as string), isSecretInvalid);
  });
});

describe("pairing code", () => {
  it("is 8 Crockford base32 characters shown as XXXX-XXXX", () => {
    const codes = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const code = generatePairingCode();
      assert.match(code, /^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{4}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{4}$/);
      assert.equal(normalizePairingCode(code), code.replace("-", ""));
      codes.add(code);
    }
    assert.ok(codes.size > 45, "codes should not repeat");
  });

  it("normalizes case, spaces, dashes and O→0, I/L→1", () => {
    assert.equal(normalizePairingCode("ab12-cd34"), "AB12CD34");
    assert.equal(normalizePairingCode(" ab 12 cd 34 "), "AB12CD34");
    assert.equal(normalizePairingCode("OoIi-LlXY"), "001111XY");
  });

  it("refuses a wrong length and U or other characters", () => {
    for (const bad of ["", "ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFGU", "ABCD_EFGH", "ABCD+EFG", "ABCDÉFGH"]) {
      assert.throws(() => normalizePairingCode(bad), isCodeInvalid, bad);
    }
    assert.throws(() => normalizePairingCode(null as unknown as string), isCodeInvalid);
  });
});

describe("account key pair and fingerprint", () => {
  it("generates a 32-byte X25519 pair whose public key matches the private key", () => {
    const { publicKey, privateKey } = generateAccountKeyPair();
    assert.equal(publicKey.length, 32);
    assert.equal(privateKey.length, 32);
    assert.deepEqual(x25519.getPublicKey(privateKey), publicKey);
    assert.notDeepEqual(generateAccountKeyPair().privateKey, privateKey);
  });

  it("fingerprints as the first 32 base32 characters of SHA-256(label ‖ pk), 8 groups of 4", () => {
    const { publicKey } = generateAccountKeyPair();
    const fingerprint = accountKeyFingerprint(publicKey);
    assert.match(fingerprint, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/);
    const expected = base32Encode(sha256(concatBytes(utf8("countersign/account-key/v1"), publicKey))).slice(0, 32);
    assert.equal(fingerprint.replaceAll("-", ""), expected);
    assert.notEqual(accountKeyFingerprint(generateAccountKeyPair().publicKey), fingerprint);
    assert.throws(() => accountKeyFingerprint(new Uint8Array(33)), TypeError);
  });

  it("randomKey32 gives 32 fresh bytes", () => {
    assert.equal(randomKey32().length, 32);
    assert.notDeepEqual(randomKey32(), randomKey32());
  });
});

describe("AADs", () => {
  it("bind label, user id and account key id", () => {
    assert.deepEqual(accountPrivateKeyAad("usr_1", "ak_2"), utf8("countersign/account-private-key/v1|usr_1|ak_2"));
    assert.deepEqual(recoveryAukAad("usr_1", "ak_2"), utf8("countersign/recovery-auk/v1|usr_1|ak_2"));
  });

  it("refuse ids that could shift fields", () => {
    assert.throws(() => accountPrivateKeyAad("usr|1", "ak_2"), TypeError);
    assert.throws(() => recoveryAukAad("usr_1", ""), TypeError);
  });
});

describe("Recovery Kit round trip", () => {
  it("a typed secret reopens the AUK sealed under its recovery key; another secret does not", async () => {
    const { openWithKey, sealWithKey } = await import("./seal-with-key.ts");
    const { recoveryKeyFromSecret } = await import("./recovery-key-from-secret.ts");
    const secret = generateRecoverySecret();
    const auk = randomKey32();
    const aad = recoveryAukAad("usr_1", "ak_1");
    const wrapped = sealWithKey(recoveryKeyFromSecret(parseRecoverySecret(secret), "usr_1"), auk, aad);
    const typed = secret.toLowerCase().replaceAll("-", " ");
    assert.deepEqual(openWithKey(recoveryKeyFromSecret(parseRecoverySecret(typed), "usr_1"), wrapped, aad), auk);
    const other = recoveryKeyFromSecret(parseRecoverySecret(generateRecoverySecret()), "usr_1");
    assert.throws(
      () => openWithKey(other, wrapped, aad),
      (e: unknown) => isCountersignError(e, "e2e_decrypt_failed"),
    );
  });
});
