import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { describe, it } from "node:test";
import { fromBase64Url, toBase64Url } from "@countersign/protocol";
import fc from "fast-check";
import { decryptField, decryptFieldText, encryptField, type FieldContext } from "./field-cipher.ts";

const key = new Uint8Array(32).fill(0x42);
const otherKey = new Uint8Array(32).fill(0x43);
const fieldKey = { kid: "u_7f3a", key };
const context: FieldContext = { table: "users", column: "email", rowId: "0b7c2d9e-1f04-4a7e-9c55-3d2e8f6a1b20" };
const anyKid = () => key;

function body(envelope: string): Uint8Array {
  const bytes = fromBase64Url(envelope.split(".")[2] ?? "");
  assert.ok(bytes !== null);
  return bytes;
}

describe("encryptField / decryptField", () => {
  it("round-trips bytes and text, including empty values", () => {
    for (const plaintext of [new Uint8Array(0), new Uint8Array([0, 1, 2, 255]), new Uint8Array(4096).fill(9)]) {
      assert.deepEqual(decryptField(anyKid, context, encryptField(fieldKey, context, plaintext)), plaintext);
    }
    for (const text of ["", "alice@example.org", "\uFEFFleading BOM", "naïve 🔐 日本"]) {
      assert.equal(decryptFieldText(anyKid, context, encryptField(fieldKey, context, text)), text);
    }
  });

  it("writes v1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)> with a fresh nonce each time", () => {
    const a = encryptField(fieldKey, context, "same");
    const b = encryptField(fieldKey, context, "same");
    assert.match(a, /^v1\.u_7f3a\.[A-Za-z0-9_-]+$/);
    assert.equal(body(a).length, 12 + 4 + 16);
    assert.notEqual(a, b);
    assert.notDeepEqual(body(a).subarray(0, 12), body(b).subarray(0, 12));
  });

  it("decrypts an envelope built independently from the documented format", () => {
    // AAD = for each of ("countersign/field", "v1", kid, table, column, rowId): u32be(len) ‖ utf8.
    const parts = ["countersign/field", "v1", "srv-1", "agents", "notes", "42"].map((part) =>
      Buffer.from(part, "utf8"),
    );
    const aad = Buffer.concat(parts.flatMap((part) => [Buffer.from([0, 0, 0, part.length]), part]));
    const nonce = Buffer.alloc(12, 0xa5);
    const cipher = createCipheriv("chacha20-poly1305", otherKey, nonce, { authTagLength: 16 });
    cipher.setAAD(aad, { plaintextLength: 5 });
    const sealed = Buffer.concat([nonce, cipher.update("hello", "utf8"), cipher.final(), cipher.getAuthTag()]);
    const envelope = `v1.srv-1.${toBase64Url(sealed)}`;
    const at = { table: "agents", column: "notes", rowId: "42" };
    assert.equal(
      decryptFieldText((kid) => (kid === "srv-1" ? otherKey : null), at, envelope),
      "hello",
    );
  });

  it("returns null when the kid has no key (erased) and asks the resolver for the envelope's kid", () => {
    const envelope = encryptField(fieldKey, context, "x");
    const asked: string[] = [];
    assert.equal(
      decryptField(
        (kid) => {
          asked.push(kid);
          return null;
        },
        context,
        envelope,
      ),
      null,
    );
    assert.equal(
      decryptField(() => undefined, context, envelope),
      null,
    );
    assert.deepEqual(asked, ["u_7f3a"]);
  });

  it("returns null under the wrong key", () => {
    assert.equal(
      decryptField(() => otherKey, context, encryptField(fieldKey, context, "x")),
      null,
    );
  });
});

describe("decryptField: tampering", () => {
  const envelope = encryptField(fieldKey, context, "alice@example.org");

  it("fails when any bit of nonce, ciphertext or tag is flipped", () => {
    const bytes = body(envelope);
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Uint8Array.from(bytes);
        tampered[i] = (tampered[i] as number) ^ (1 << bit);
        const changed = `v1.u_7f3a.${toBase64Url(tampered)}`;
        assert.equal(decryptField(anyKid, context, changed), null, `byte ${i} bit ${bit}`);
      }
    }
  });

  it("fails when any character of the envelope (version, kid or body) is replaced", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
    let tried = 0;
    for (let i = 0; i < envelope.length; i++) {
      for (const replacement of alphabet) {
        if (replacement === envelope[i]) continue;
        const changed = envelope.slice(0, i) + replacement + envelope.slice(i + 1);
        // The resolver hands out the right key for any kid, so a changed kid fails on the AAD.
        assert.equal(decryptField(anyKid, context, changed), null, changed);
        tried++;
      }
    }
    assert.equal(tried, envelope.length * (alphabet.length - 1));
  });

  it("fails under another kid even when that kid resolves to the same key", () => {
    const relabelled = envelope.replace("v1.u_7f3a.", "v1.u_7f3b.");
    assert.notEqual(relabelled, envelope);
    assert.equal(decryptField(anyKid, context, relabelled), null);
  });

  it("fails under any other version", () => {
    for (const version of ["v2", "V1", "v0", "v01", "", "v1 "]) {
      assert.equal(decryptField(anyKid, context, envelope.replace(/^v1/, version)), null, version);
    }
  });

  it("fails when the table, column or row id differs", () => {
    assert.equal(decryptField(anyKid, { ...context, table: "admins" }, envelope), null);
    assert.equal(decryptField(anyKid, { ...context, column: "recovery_email" }, envelope), null);
    assert.equal(decryptField(anyKid, { ...context, rowId: `${context.rowId}0` }, envelope), null);
    assert.equal(decryptField(anyKid, { ...context, rowId: context.rowId.toUpperCase() }, envelope), null);
  });

  it("keeps the parts of the context apart: moving characters between them fails", () => {
    const at = { table: "ab", column: "cd", rowId: "12" };
    const sealed = encryptField(fieldKey, at, "x");
    assert.equal(decryptFieldText(anyKid, at, sealed), "x");
    for (const shifted of [
      { table: "a", column: "bcd", rowId: "12" },
      { table: "abc", column: "d", rowId: "12" },
      { table: "ab", column: "c", rowId: "d12" },
      { table: "ab", column: "cd1", rowId: "2" },
      { table: "ab\0cd", column: "cd", rowId: "12" },
    ]) {
      assert.equal(decryptField(anyKid, shifted, sealed), null, JSON.stringify(shifted));
    }
  });
});

describe("decryptField: strict parsing", () => {
  const envelope = encryptField(fieldKey, context, "x");
  const [, , b64] = envelope.split(".") as [string, string, string];

  it("returns null, without looking up a key, for envelopes that are not exactly v1.<kid>.<canonical base64url>", () => {
    const tooShort = toBase64Url(new Uint8Array(27)); // shorter than nonce ‖ tag
    const nonCanonical = toBase64Url(new Uint8Array(29)).replace(/A$/, "B"); // unused low bits set
    const malformed = [
      "",
      "v1",
      `v1.u_7f3a`,
      `v1.u_7f3a.${b64}.`,
      `v1.u_7f3a.${b64}.extra`,
      `.v1.u_7f3a.${b64}`,
      `v1..${b64}`,
      `v1.u.7f3a.${b64}`,
      `v1.${"k".repeat(33)}.${b64}`,
      `v1.ü.${b64}`,
      `v1.u_7f3a.${b64}=`,
      `v1.u_7f3a.${b64.replaceAll("-", "+").replaceAll("_", "/")}+`,
      `v1.u_7f3a. ${b64}`,
      `v1.u_7f3a.${tooShort}`,
      `v1.u_7f3a.${nonCanonical}`,
    ];
    let asked = 0;
    for (const bad of malformed) {
      const result = decryptField(
        () => {
          asked++;
          return key;
        },
        context,
        bad,
      );
      assert.equal(result, null, bad);
    }
    assert.equal(asked, 0);
    assert.equal(decryptField(anyKid, context, null as unknown as string), null);
  });

  it("decryptFieldText returns null for a plaintext that is not UTF-8", () => {
    const sealed = encryptField(fieldKey, context, new Uint8Array([0xff, 0xfe]));
    assert.deepEqual(decryptField(anyKid, context, sealed), new Uint8Array([0xff, 0xfe]));
    assert.equal(decryptFieldText(anyKid, context, sealed), null);
  });
});

describe("encryptField / decryptField: arguments", () => {
  it("refuses bad kids, keys, contexts and plaintexts with labelled TypeErrors", () => {
    assert.throws(() => encryptField({ kid: "a.b", key }, context, "x"), /key\.kid must match/);
    assert.throws(() => encryptField({ kid: "", key }, context, "x"), /key\.kid must match/);
    assert.throws(() => encryptField({ kid: "k", key: new Uint8Array(16) }, context, "x"), /key\.key must be 32 bytes/);
    assert.throws(() => encryptField(fieldKey, { ...context, table: "" }, "x"), /context\.table must not be empty/);
    assert.throws(() => encryptField(fieldKey, { ...context, column: 1 as unknown as string }, "x"), /context\.column/);
    assert.throws(
      () => encryptField(fieldKey, { ...context, rowId: "\uDC00" }, "x"),
      /context\.rowId must be well-formed/,
    );
    assert.throws(() => encryptField(fieldKey, context, "\uD800"), /plaintext must be well-formed/);
    assert.throws(() => encryptField(fieldKey, context, 5 as unknown as string), /plaintext must be a Uint8Array/);
    assert.throws(() => decryptField(anyKid, { ...context, rowId: "" }, "v1.k.AAAA"), /context\.rowId/);
    assert.throws(
      () => decryptField(() => new Uint8Array(31), context, encryptField(fieldKey, context, "x")),
      /resolved key/,
    );
  });
});

describe("field cipher properties (fast-check)", () => {
  const text = fc.string({ unit: "binary", minLength: 1, maxLength: 40 });
  const contexts = fc.record({ table: text, column: text, rowId: text });
  const kids = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);

  it("round-trips any plaintext under any kid and context", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), kids, contexts, (plaintext, kid, at) => {
        const sealed = encryptField({ kid, key }, at, plaintext);
        assert.deepEqual(decryptField(anyKid, at, sealed), plaintext);
      }),
    );
  });

  it("refuses an envelope with any random byte changed", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        contexts,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (plaintext, at, position, mask) => {
          const sealed = encryptField(fieldKey, at, plaintext);
          const bytes = body(sealed);
          const i = position % bytes.length;
          bytes[i] = (bytes[i] as number) ^ mask;
          assert.equal(decryptField(anyKid, at, `v1.${fieldKey.kid}.${toBase64Url(bytes)}`), null);
        },
      ),
    );
  });

  it("refuses an envelope read under any other context", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), contexts, contexts, (plaintext, at, elsewhere) => {
        fc.pre(at.table !== elsewhere.table || at.column !== elsewhere.column || at.rowId !== elsewhere.rowId);
        assert.equal(decryptField(anyKid, elsewhere, encryptField(fieldKey, at, plaintext)), null);
      }),
    );
  });

  it("round-trips any well-formed text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (value) => {
        assert.equal(decryptFieldText(anyKid, context, encryptField(fieldKey, context, value)), value);
      }),
    );
  });
});
