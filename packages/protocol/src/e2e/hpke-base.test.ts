import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromHex, toHex } from "../encoding/hex.ts";
import { hpkeOpenBase, hpkeSealBase } from "./hpke-base.ts";

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  assert.ok(bytes, `bad hex in test data: ${text}`);
  return bytes;
}

// RFC 9180 Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode,
// https://www.rfc-editor.org/rfc/rfc9180.html#appendix-A.2.1 — setup and encryption sequence 0.
const A_2_1 = {
  info: "4f6465206f6e2061204772656369616e2055726e",
  ikmE: "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
  pkEm: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
  pkRm: "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
  skRm: "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
  enc: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
  pt: "4265617574792069732074727574682c20747275746820626561757479",
  aad: "436f756e742d30",
  ct: "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
} as const;

describe("HPKE base mode, suite 0x0020/0x0001/0x0003 (RFC 9180 A.2.1)", () => {
  it("seals the RFC's first message to the RFC's ciphertext given its ikmE", async () => {
    const sealed = await hpkeSealBase(hex(A_2_1.pkRm), hex(A_2_1.info), hex(A_2_1.aad), hex(A_2_1.pt), hex(A_2_1.ikmE));
    assert.equal(toHex(sealed.enc), A_2_1.enc);
    assert.equal(toHex(sealed.enc), A_2_1.pkEm);
    assert.equal(toHex(sealed.ct), A_2_1.ct);
  });

  it("opens the RFC's ciphertext with skRm", async () => {
    const pt = await hpkeOpenBase(hex(A_2_1.skRm), hex(A_2_1.enc), hex(A_2_1.info), hex(A_2_1.aad), hex(A_2_1.ct));
    assert.equal(toHex(pt), A_2_1.pt);
  });

  it("refuses the RFC's ciphertext under another info or aad", async () => {
    await assert.rejects(hpkeOpenBase(hex(A_2_1.skRm), hex(A_2_1.enc), hex("00"), hex(A_2_1.aad), hex(A_2_1.ct)));
    await assert.rejects(hpkeOpenBase(hex(A_2_1.skRm), hex(A_2_1.enc), hex(A_2_1.info), hex("00"), hex(A_2_1.ct)));
  });
});
