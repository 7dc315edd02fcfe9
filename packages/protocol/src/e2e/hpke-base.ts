import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";

/**
 * The one HPKE suite of Countersign (RFC 9180 §7): DHKEM(X25519, HKDF-SHA256) (KEM 0x0020),
 * HKDF-SHA256 (KDF 0x0001), ChaCha20-Poly1305 (AEAD 0x0003), used in base mode (§5.1.1, mode 0x00).
 */
export const hpkeSuite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});

/** The result of a single-shot HPKE seal: the encapsulated key and the ciphertext. */
export interface HpkeSealed {
  enc: Uint8Array;
  ct: Uint8Array;
}

/**
 * Single-shot base-mode seal (RFC 9180 §6.1 SealBase). `ikmE` pins the ephemeral key
 * (DeriveKeyPair, §7.1.3) for known-answer tests only; real callers leave it out so that a fresh
 * ephemeral key is generated.
 */
export async function hpkeSealBase(
  publicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  ikmE?: Uint8Array,
): Promise<HpkeSealed> {
  const recipientPublicKey = await hpkeSuite.kem.deserializePublicKey(publicKey);
  const sealed = await hpkeSuite.seal(
    { recipientPublicKey, info, ...(ikmE === undefined ? {} : { ekm: await hpkeSuite.kem.deriveKeyPair(ikmE) }) },
    plaintext,
    aad,
  );
  return { enc: new Uint8Array(sealed.enc), ct: new Uint8Array(sealed.ct) };
}

/** Single-shot base-mode open (RFC 9180 §6.1 OpenBase). Throws whatever @hpke throws. */
export async function hpkeOpenBase(
  privateKey: Uint8Array,
  enc: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
): Promise<Uint8Array> {
  const recipientKey = await hpkeSuite.kem.deserializePrivateKey(privateKey);
  return new Uint8Array(await hpkeSuite.open({ recipientKey, enc, info }, ct, aad));
}
