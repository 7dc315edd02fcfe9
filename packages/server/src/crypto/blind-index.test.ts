import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import { describe, it } from "node:test";
import { utf8 } from "@countersign/protocol";
import { BLIND_INDEX_PURPOSES, createBlindIndexer } from "./blind-index.ts";
import { DERIVED_KEY_PURPOSES, deriveKey } from "./derive-key.ts";

const root = Uint8Array.from({ length: 32 }, (_, i) => i);

describe("createBlindIndexer", () => {
  const indexer = createBlindIndexer(root);

  it("equals HMAC-SHA-256 under HKDF-SHA-256(root, no salt, 'countersign/blind-index/v1/email') computed with node:crypto", () => {
    const key = Buffer.from(hkdfSync("sha256", root, new Uint8Array(0), "countersign/blind-index/v1/email", 32));
    const expected = createHmac("sha256", key).update("alice@example.org", "utf8").digest("hex");
    assert.equal(indexer.index("email", "alice@example.org"), expected);
  });

  it("matches a pinned value, so a change to the derivation cannot go unnoticed", () => {
    // Computed with Python's hmac/hashlib, an implementation independent of Node and OpenSSL.
    assert.equal(
      indexer.index("email", "alice@example.org"),
      "17e01a5aa45e77b3c52288bb953d45ba7ecb47059044be4c908a34f028175ff9",
    );
  });

  it("gives the same index for the same input, from the same or a new indexer, for text or its UTF-8 bytes", () => {
    const value = "bob@example.org";
    assert.equal(indexer.index("email", value), indexer.index("email", value));
    assert.equal(createBlindIndexer(Uint8Array.from(root)).index("email", value), indexer.index("email", value));
    assert.equal(indexer.index("email", utf8(value)), indexer.index("email", value));
    assert.match(indexer.index("email", value), /^[0-9a-f]{64}$/);
  });

  it("gives different indexes for different values, including case and whitespace variants", () => {
    const values = ["a@x.org", "A@x.org", "a@x.org ", "", "a@x.or"];
    const indexes = new Set(values.map((value) => indexer.index("email", value)));
    assert.equal(indexes.size, values.length);
  });

  it("gives unrelated outputs under another root secret", () => {
    const other = createBlindIndexer(new Uint8Array(32).fill(0xee));
    assert.notEqual(other.index("email", "a@x.org"), indexer.index("email", "a@x.org"));
  });

  it("uses a key unrelated to the root secret and to every deriveKey purpose", () => {
    const value = "a@x.org";
    const index = indexer.index("email", value);
    assert.notEqual(index, createHmac("sha256", root).update(value).digest("hex"));
    for (const purpose of DERIVED_KEY_PURPOSES) {
      assert.notEqual(index, createHmac("sha256", deriveKey(root, purpose)).update(value).digest("hex"), purpose);
    }
  });

  it("derives one key per allowlisted purpose, each bound to its purpose name", () => {
    for (const purpose of BLIND_INDEX_PURPOSES) {
      const key = Buffer.from(hkdfSync("sha256", root, new Uint8Array(0), `countersign/blind-index/v1/${purpose}`, 32));
      assert.equal(indexer.index(purpose, "v"), createHmac("sha256", key).update("v").digest("hex"), purpose);
    }
  });

  it("refuses purposes outside the allowlist", () => {
    for (const purpose of ["", "Email", "phone", "__proto__", "session-cookie"]) {
      assert.throws(() => indexer.index(purpose as never, "a@x.org"), /unknown blind-index purpose/, purpose);
    }
  });

  it("refuses values that are not well-formed strings or Uint8Arrays", () => {
    assert.throws(() => indexer.index("email", "a\uD800"), /value must be well-formed/);
    assert.throws(() => indexer.index("email", 5 as unknown as string), /value must be a Uint8Array/);
  });

  it("refuses a root secret shorter than 32 bytes, when built", () => {
    assert.throws(() => createBlindIndexer(new Uint8Array(31)), /rootSecret must be at least 32 bytes/);
    assert.throws(() => createBlindIndexer(undefined as unknown as Uint8Array), /rootSecret must be a Uint8Array/);
  });

  it("does not keep the root secret: wiping it after building changes nothing", () => {
    const secret = new Uint8Array(32).fill(0x31);
    const built = createBlindIndexer(secret);
    const before = built.index("email", "a@x.org");
    secret.fill(0);
    assert.equal(built.index("email", "a@x.org"), before);
  });
});
