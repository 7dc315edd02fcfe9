import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { concatBytes, utf8 } from "../encoding/bytes.ts";
import { fromHex, toHex } from "../encoding/hex.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { calculateGenerator, generatorString } from "./calculate-generator.ts";
import { decodeCpaceMessage, encodeCpaceMessage } from "./cpace-message.ts";
import { type CpaceSetup, cpaceStart } from "./cpace-start.ts";
import { lvCat, lvSplit, prependLen } from "./lv-cat.ts";
import { pairingChannelId } from "./pairing-channel-id.ts";
import { scalarMultVfy } from "./scalar-mult-vfy.ts";

const VECTORS_DIR = new URL("../../../../test-vectors/cpace/", import.meta.url);

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  assert.ok(bytes, `bad hex in test data: ${text}`);
  return bytes;
}

const isMessageInvalid = (error: unknown) => isCountersignError(error, "pairing_message_invalid");

interface G25519 {
  PRS: string;
  CI: string;
  sid: string;
  g: string;
  ya: string;
  ADa: string;
  Ya: string;
  yb: string;
  ADb: string;
  Yb: string;
  K: string;
  ISK_IR: string;
  ISK_SY: string;
  sid_output_ir: string;
  sid_output_oc: string;
}
const vectors = JSON.parse(readFileSync(new URL("testvectors.json", VECTORS_DIR), "utf8")) as {
  G_25519: G25519;
  X25519_points: Record<string, string>;
};
const V = vectors.G_25519;
const lower = (text: string) => text.toLowerCase();

/**
 * The draft's "Test vectors for G_X25519.scalar_mult_vfy: low order points" section gives the
 * scalar s and the expected results q0 … qb in its text only (testvectors.json lists the points).
 * They are read from the draft file rather than copied here.
 */
function lowOrderSection(): { s: string; u: Map<string, string>; q: Map<string, string> } {
  const draft = readFileSync(new URL("draft-irtf-cfrg-cpace.md", VECTORS_DIR), "utf8");
  const start = draft.indexOf("### Test vectors for G\\_X25519.scalar\\_mult\\_vfy: low order points");
  assert.ok(start >= 0, "low-order section not found in the draft");
  const section = draft.slice(start, draft.indexOf("####", start));
  const s = /^s = ([0-9a-f]{64})$/m.exec(section)?.[1];
  assert.ok(s, "scalar s not found");
  const u = new Map(
    [...section.matchAll(/^u([0-9a-b]): ([0-9a-f]{64})$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  const q = new Map(
    [...section.matchAll(/^q([0-9a-b]): ([0-9a-f]{64})$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  assert.equal(u.size, 12);
  assert.equal(q.size, 12);
  return { s, u, q };
}

function setupFor(role: "a" | "b", prs = hex(V.PRS)): CpaceSetup {
  return { prs, ci: hex(V.CI), sid: hex(V.sid), ad: hex(role === "a" ? V.ADa : V.ADb) };
}

describe("CPace string functions (draft appendix test vectors)", () => {
  it("prepend_len", () => {
    assert.equal(toHex(prependLen(new Uint8Array())), "00");
    assert.equal(toHex(prependLen(utf8("1234"))), "0431323334");
    const r127 = Uint8Array.from({ length: 127 }, (_, i) => i);
    const r128 = Uint8Array.from({ length: 128 }, (_, i) => i);
    assert.equal(toHex(prependLen(r127)), `7f${toHex(r127)}`);
    assert.equal(toHex(prependLen(r128)), `8001${toHex(r128)}`);
  });

  it("lv_cat and its inverse", () => {
    const encoded = lvCat(utf8("1234"), utf8("5"), new Uint8Array(), utf8("678"));
    assert.equal(toHex(encoded), "043132333401350003363738");
    assert.deepEqual(lvSplit(encoded, 16), [utf8("1234"), utf8("5"), new Uint8Array(), utf8("678")]);
    assert.equal(lvSplit(hex("0431323334ff"), 16), null, "truncated");
    assert.equal(lvSplit(hex("8000"), 16), null, "non-minimal length");
    assert.equal(lvSplit(hex("0431323334"), 3), null, "over the maximum");
  });

  it("transcript_ir is the two messages as sent", () => {
    const transcript = concatBytes(
      encodeCpaceMessage({ y: utf8("123"), ad: utf8("PartyA") }),
      encodeCpaceMessage({ y: utf8("234"), ad: utf8("PartyB") }),
    );
    assert.equal(toHex(transcript), "03313233065061727479410332333406506172747942");
  });
});

describe("G_25519 test vectors (CPACE-X25519-SHA512)", () => {
  it("generator_string and calculate_generator give g", () => {
    const genStr = generatorString(hex(V.PRS), hex(V.CI), hex(V.sid));
    assert.equal(genStr.length, 170);
    // ZPAD length 109 (draft, "Test vectors for calculate_generator with group X25519").
    assert.equal(toHex(genStr.subarray(0, 20)), "0843506163653235350850617373776f72646d00");
    assert.equal(toHex(calculateGenerator(hex(V.PRS), hex(V.CI), hex(V.sid))), lower(V.g));
  });

  it("Ya, Yb from ya, yb and the messages lv_cat(Y, AD)", () => {
    const a = cpaceStart("initiator", setupFor("a"), hex(V.ya));
    const b = cpaceStart("responder", setupFor("b"), hex(V.yb));
    assert.equal(toHex(a.message), toHex(lvCat(hex(V.Ya), hex(V.ADa))));
    assert.equal(toHex(b.message), toHex(lvCat(hex(V.Yb), hex(V.ADb))));
  });

  it("K from both sides", () => {
    assert.equal(toHex(scalarMultVfy(hex(V.ya), hex(V.Yb))), lower(V.K));
    assert.equal(toHex(scalarMultVfy(hex(V.yb), hex(V.Ya))), lower(V.K));
  });

  it("ISK_IR, sid_output_ir and the key-confirmation tags on both sides", () => {
    const a = cpaceStart("initiator", setupFor("a"), hex(V.ya));
    const b = cpaceStart("responder", setupFor("b"), hex(V.yb));
    const ra = a.finish(b.message);
    const rb = b.finish(a.message);
    assert.equal(toHex(ra.isk), lower(V.ISK_IR));
    assert.equal(toHex(rb.isk), lower(V.ISK_IR));
    assert.equal(toHex(ra.sidOutput), lower(V.sid_output_ir));
    assert.equal(toHex(rb.sidOutput), lower(V.sid_output_ir));
    // The IR setting must not produce the symmetric-setting values.
    assert.notEqual(toHex(ra.isk), lower(V.ISK_SY));
    assert.notEqual(toHex(ra.sidOutput), lower(V.sid_output_oc));
    assert.deepEqual(ra.peerAd, hex(V.ADb));
    assert.deepEqual(rb.peerAd, hex(V.ADa));

    // The draft gives no tag vectors; check its construction with node:crypto, independently:
    // mac_key = SHA-512(b"CPaceMac" ‖ sid ‖ ISK), Ta = HMAC(mac_key, lv_cat(Ya, ADa)), Tb likewise.
    const macKey = createHash("sha512").update(utf8("CPaceMac")).update(hex(V.sid)).update(hex(V.ISK_IR)).digest();
    const ta = createHmac("sha512", macKey)
      .update(lvCat(hex(V.Ya), hex(V.ADa)))
      .digest("hex");
    const tb = createHmac("sha512", macKey)
      .update(lvCat(hex(V.Yb), hex(V.ADb)))
      .digest("hex");
    assert.equal(toHex(ra.confirmationTag), ta);
    assert.equal(toHex(rb.confirmationTag), tb);
    assert.equal(ra.verifyPeerTag(rb.confirmationTag), true);
    assert.equal(rb.verifyPeerTag(ra.confirmationTag), true);
    assert.equal(ra.verifyPeerTag(ra.confirmationTag), false, "a party's own tag is not the peer's");
  });
});

describe("X25519_points: scalar_mult_vfy on low-order and non-canonical points", () => {
  const { s, u, q } = lowOrderSection();
  // The JSON names the points "Invalid Y0" … "Invalid Y11"; the draft names them u0 … ub.
  const names = [..."0123456789ab"];
  const mustAbort = new Set(["0", "1", "2", "3", "4", "5", "7"]); // "u0,u1,u2,u3,u4,u5 and u7 MUST trigger the abort case"

  it("the JSON file and the draft list the same 12 points", () => {
    const json = Object.entries(vectors.X25519_points);
    assert.equal(json.length, 12);
    for (const [i, name] of names.entries()) {
      assert.equal(lower(vectors.X25519_points[`Invalid Y${i}`] as string), u.get(name), `Y${i} = u${name}`);
    }
  });

  for (const [i, name] of names.entries()) {
    it(`Invalid Y${i}: scalar_mult_vfy(s, u${name}) = q${name}, and a message carrying it is refused`, () => {
      const point = hex(vectors.X25519_points[`Invalid Y${i}`] as string);
      const result = toHex(scalarMultVfy(hex(s), point));
      assert.equal(result, q.get(name));
      assert.equal(result === "00".repeat(32), mustAbort.has(name));

      // In a protocol run, from either side: the low-order ones hit the K = G.I abort, the others
      // (non-canonical encodings) are refused when the message is decoded.
      const bogus = encodeCpaceMessage({ y: point, ad: utf8("ADx") });
      assert.throws(() => cpaceStart("initiator", setupFor("a")).finish(bogus), isMessageInvalid);
      assert.throws(() => cpaceStart("responder", setupFor("b")).finish(bogus), isMessageInvalid);
    });
  }

  it("the low-order points that are canonical are refused by the K = G.I check itself", () => {
    for (const name of mustAbort) {
      const point = hex(u.get(name) as string);
      const last = point[31] as number;
      const canonical = (last & 0x80) === 0 && !(last === 0x7f && toHex(point).slice(0, 2) >= "ed");
      if (!canonical) continue;
      assert.doesNotThrow(() => decodeCpaceMessage(encodeCpaceMessage({ y: point, ad: new Uint8Array() })));
      assert.equal(toHex(scalarMultVfy(hex(s), point)), "00".repeat(32));
    }
  });
});

describe("CPace protocol runs", () => {
  const userId = "usr_1";
  const origin = "https://countersign.example";
  const sid = Uint8Array.from({ length: 16 }, (_, i) => i);
  const setup = (code: string, ad: string): CpaceSetup => ({
    prs: utf8(code),
    ci: pairingChannelId(userId, origin),
    sid,
    ad: utf8(ad),
  });

  it("initiator and responder with random scalars agree on ISK and sid_output, and tags verify", () => {
    const a = cpaceStart("initiator", setup("AB12CD34", "dev_a"));
    const b = cpaceStart("responder", setup("AB12CD34", "dev_b"));
    const rb = b.finish(a.message);
    const ra = a.finish(b.message);
    assert.equal(ra.isk.length, 64);
    assert.deepEqual(ra.isk, rb.isk);
    assert.deepEqual(ra.sidOutput, rb.sidOutput);
    assert.equal(ra.verifyPeerTag(rb.confirmationTag), true);
    assert.equal(rb.verifyPeerTag(ra.confirmationTag), true);
    assert.equal(new TextDecoder().decode(ra.peerAd), "dev_b");
    assert.equal(new TextDecoder().decode(rb.peerAd), "dev_a");
  });

  it("a wrong password gives different ISKs and tags that fail on both sides", () => {
    const a = cpaceStart("initiator", setup("AB12CD34", "dev_a"));
    const b = cpaceStart("responder", setup("AB12CD35", "dev_b"));
    const rb = b.finish(a.message);
    const ra = a.finish(b.message);
    assert.notDeepEqual(ra.isk, rb.isk);
    assert.equal(ra.verifyPeerTag(rb.confirmationTag), false);
    assert.equal(rb.verifyPeerTag(ra.confirmationTag), false);
  });

  it("another channel (user or origin) or sid gives different ISKs", () => {
    const base = setup("AB12CD34", "dev_a");
    for (const other of [
      { ...setup("AB12CD34", "dev_b"), ci: pairingChannelId("usr_2", origin) },
      { ...setup("AB12CD34", "dev_b"), ci: pairingChannelId(userId, "https://evil.example") },
      { ...setup("AB12CD34", "dev_b"), sid: new Uint8Array(16) },
    ]) {
      const a = cpaceStart("initiator", base);
      const b = cpaceStart("responder", other);
      const rb = b.finish(a.message);
      const ra = a.finish(b.message);
      assert.notDeepEqual(ra.isk, rb.isk);
      assert.equal(ra.verifyPeerTag(rb.confirmationTag), false);
    }
  });

  it("a relayed message with altered AD gives different ISKs (the transcript covers AD)", () => {
    const a = cpaceStart("initiator", setup("AB12CD34", "dev_a"));
    const b = cpaceStart("responder", setup("AB12CD34", "dev_b"));
    const parsed = decodeCpaceMessage(a.message);
    const rb = b.finish(encodeCpaceMessage({ y: parsed.y, ad: utf8("dev_x") }));
    const ra = a.finish(b.message);
    assert.notDeepEqual(ra.isk, rb.isk);
    assert.equal(ra.verifyPeerTag(rb.confirmationTag), false);
  });

  it("verifyPeerTag refuses a tag altered at its first or last byte, truncated, or not bytes", () => {
    const a = cpaceStart("initiator", setup("AB12CD34", "dev_a"));
    const b = cpaceStart("responder", setup("AB12CD34", "dev_b"));
    const rb = b.finish(a.message);
    const ra = a.finish(b.message);
    const tag = rb.confirmationTag;
    assert.equal(tag.length, 64);
    for (const at of [0, 63]) {
      const altered = tag.slice();
      altered[at] = (altered[at] as number) ^ 1;
      assert.equal(ra.verifyPeerTag(altered), false);
    }
    assert.equal(ra.verifyPeerTag(tag.subarray(0, 32)), false);
    assert.equal(ra.verifyPeerTag(new Uint8Array()), false);
    assert.equal(ra.verifyPeerTag("x" as unknown as Uint8Array), false);
    assert.equal(ra.verifyPeerTag(tag), true);
  });

  it("refuses malformed messages and a second finish", () => {
    const valid = cpaceStart("responder", setup("AB12CD34", "dev_b")).message;
    for (const bad of [
      new Uint8Array(),
      valid.subarray(0, 20),
      concatBytes(valid, Uint8Array.of(0)),
      lvCat(new Uint8Array(31), utf8("ad")),
      lvCat(new Uint8Array(33), utf8("ad")),
      lvCat(decodeCpaceMessage(valid).y),
      lvCat(decodeCpaceMessage(valid).y, utf8("ad"), utf8("extra")),
      lvCat(decodeCpaceMessage(valid).y, new Uint8Array(2000)),
    ]) {
      assert.throws(() => cpaceStart("initiator", setup("AB12CD34", "dev_a")).finish(bad), isMessageInvalid);
    }
    const a = cpaceStart("initiator", setup("AB12CD34", "dev_a"));
    a.finish(valid);
    assert.throws(() => a.finish(valid), /only once/);
  });

  it("does not alter a caller's scalar and checks argument sizes", () => {
    const scalar = hex(V.ya);
    cpaceStart("initiator", setupFor("a"), scalar).finish(cpaceStart("responder", setupFor("b")).message);
    assert.equal(toHex(scalar), lower(V.ya));
    assert.throws(() => cpaceStart("initiator", setupFor("a"), new Uint8Array(31)), TypeError);
    assert.throws(() => cpaceStart("both" as "initiator", setupFor("a")), TypeError);
  });

  it("pairingChannelId is lv_cat(label, origin, user id)", () => {
    assert.deepEqual(
      pairingChannelId(userId, origin),
      lvCat(utf8("countersign/pairing/v1"), utf8(origin), utf8(userId)),
    );
    assert.notDeepEqual(pairingChannelId("ab", "c"), pairingChannelId("a", "bc"));
    assert.throws(() => pairingChannelId("", origin), TypeError);
  });
});
