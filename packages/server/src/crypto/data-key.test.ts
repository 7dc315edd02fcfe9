import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { describe, it } from "node:test";
import { fromBase64Url, toBase64Url } from "@countersign/protocol";
import { generateDataKey, rewrapDataKey, unwrapDataKey, wrapDataKey } from "./data-key.ts";
import { createKeyRing } from "./key-ring.ts";

const oldKek = new Uint8Array(32).fill(0x11);
const newKek = new Uint8Array(32).fill(0x22);
const before = createKeyRing({ current: "k1", keys: new Map([["k1", oldKek]]) });
const after = createKeyRing({
  current: "k2",
  keys: new Map([
    ["k1", oldKek],
    ["k2", newKek],
  ]),
});

describe("generateDataKey", () => {
  it("returns 32 fresh random bytes each time", () => {
    const a = generateDataKey();
    const b = generateDataKey();
    assert.equal(a.length, 32);
    assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype);
    assert.notDeepEqual(a, b);
  });
});

describe("wrapDataKey / unwrapDataKey", () => {
  it("round-trips under the current KEK and records its id", () => {
    const dataKey = generateDataKey();
    const stored = wrapDataKey(before, "user-1", dataKey);
    assert.equal(stored.kekId, "k1");
    assert.match(stored.wrapped, /^[A-Za-z0-9_-]{80}$/);
    assert.deepEqual(unwrapDataKey(before, "user-1", stored.kekId, stored.wrapped), dataKey);
  });

  it("uses a fresh nonce each time", () => {
    const dataKey = generateDataKey();
    assert.notEqual(wrapDataKey(before, "u", dataKey).wrapped, wrapDataKey(before, "u", dataKey).wrapped);
  });

  it("matches the documented format: base64url(nonce ‖ ChaCha20-Poly1305(KEK, nonce, key, AAD)), AAD = countersign/dek/v1 NUL userId", () => {
    const dataKey = new Uint8Array(32).fill(0x5a);
    const nonce = new Uint8Array(12).fill(0x07);
    const cipher = createCipheriv("chacha20-poly1305", oldKek, nonce, { authTagLength: 16 });
    cipher.setAAD(Buffer.from("countersign/dek/v1\0user-1", "utf8"), { plaintextLength: 32 });
    const body = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    const wrapped = toBase64Url(body);
    assert.deepEqual(unwrapDataKey(before, "user-1", "k1", wrapped), dataKey);
    assert.equal(unwrapDataKey(before, "user-2", "k1", wrapped), null);
  });

  it("does not unwrap for another user, under another kid, or with any byte changed", () => {
    const stored = wrapDataKey(before, "user-1", generateDataKey());
    assert.equal(unwrapDataKey(before, "user-2", stored.kekId, stored.wrapped), null);
    assert.equal(unwrapDataKey(before, "user-1x", stored.kekId, stored.wrapped), null);
    assert.equal(unwrapDataKey(after, "user-1", "k2", stored.wrapped), null);
    assert.equal(unwrapDataKey(before, "user-1", "k9", stored.wrapped), null);
    const bytes = fromBase64Url(stored.wrapped);
    assert.ok(bytes !== null);
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const tampered: Uint8Array = Uint8Array.from(bytes);
        tampered[i] = (tampered[i] as number) ^ mask;
        assert.equal(unwrapDataKey(before, "user-1", "k1", toBase64Url(tampered)), null, `byte ${i} ^ ${mask}`);
      }
    }
  });

  it("returns null for wrapped values that are not canonical base64url of exactly 60 bytes", () => {
    const { wrapped } = wrapDataKey(before, "u", generateDataKey());
    const bytes = fromBase64Url(wrapped);
    assert.ok(bytes !== null);
    for (const bad of [
      "",
      `${wrapped}==`,
      `${wrapped}AA`,
      wrapped.slice(0, -4),
      toBase64Url(bytes.subarray(0, 59)),
      toBase64Url(new Uint8Array([...bytes, 0])),
      `+${wrapped.slice(1)}`,
      `/${wrapped.slice(1)}`,
      `${wrapped.slice(0, -1)}!`,
      ` ${wrapped}`,
    ]) {
      assert.equal(unwrapDataKey(before, "u", "k1", bad), null, bad);
    }
  });

  it("refuses bad arguments with labelled TypeErrors", () => {
    assert.throws(() => wrapDataKey(before, "", generateDataKey()), /userId must not be empty/);
    assert.throws(() => wrapDataKey(before, "a\uD800", generateDataKey()), /userId must be well-formed/);
    assert.throws(() => wrapDataKey(before, "u", new Uint8Array(31)), /dataKey must be 32 bytes/);
    assert.throws(() => unwrapDataKey(before, "u", 1 as unknown as string, "x"), /kekId must be a string/);
  });
});

describe("rewrapDataKey", () => {
  it("moves a data key from an older KEK to the current one, and the key itself does not change", () => {
    const dataKey = generateDataKey();
    const stored = wrapDataKey(before, "user-1", dataKey);
    const next = rewrapDataKey(after, "user-1", stored.kekId, stored.wrapped);
    assert.ok(next !== null);
    assert.equal(next.changed, true);
    assert.equal(next.kekId, "k2");
    assert.notEqual(next.wrapped, stored.wrapped);
    assert.deepEqual(unwrapDataKey(after, "user-1", next.kekId, next.wrapped), dataKey);
    // Once the old KEK is dropped from the ring, only the re-wrapped copy still opens.
    const retired = createKeyRing({ current: "k2", keys: new Map([["k2", newKek]]) });
    assert.deepEqual(unwrapDataKey(retired, "user-1", next.kekId, next.wrapped), dataKey);
    assert.equal(unwrapDataKey(retired, "user-1", stored.kekId, stored.wrapped), null);
  });

  it("leaves a data key already under the current KEK unchanged", () => {
    const stored = wrapDataKey(after, "user-1", generateDataKey());
    assert.deepEqual(rewrapDataKey(after, "user-1", stored.kekId, stored.wrapped), { ...stored, changed: false });
  });

  it("returns null when the data key cannot be unwrapped, even under the current KEK", () => {
    const old = wrapDataKey(before, "user-1", generateDataKey());
    assert.equal(rewrapDataKey(after, "user-2", old.kekId, old.wrapped), null);
    const current = wrapDataKey(after, "user-1", generateDataKey());
    assert.equal(rewrapDataKey(after, "user-2", current.kekId, current.wrapped), null);
    const retired = createKeyRing({ current: "k2", keys: new Map([["k2", newKek]]) });
    assert.equal(rewrapDataKey(retired, "user-1", old.kekId, old.wrapped), null);
  });
});
