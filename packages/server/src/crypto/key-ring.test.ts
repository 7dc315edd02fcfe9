import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createKeyRing } from "./key-ring.ts";

const k1 = new Uint8Array(32).fill(1);
const k2 = new Uint8Array(32).fill(2);
const k3 = new Uint8Array(32).fill(3);

describe("createKeyRing", () => {
  it("holds every configured key and names the current one first", () => {
    const ring = createKeyRing({
      current: "2026-05",
      keys: new Map([
        ["2025-11", k1],
        ["2026-05", k2],
        ["2024_a", k3],
      ]),
    });
    assert.equal(ring.currentKid, "2026-05");
    assert.deepEqual(ring.kids, ["2026-05", "2025-11", "2024_a"]);
    assert.equal(ring.has("2025-11"), true);
    assert.equal(ring.has("nope"), false);
    assert.deepEqual(ring.getKey("2025-11"), k1);
    assert.deepEqual(ring.getKey("2026-05"), k2);
    assert.equal(ring.getKey("nope"), null);
  });

  it("copies keys in and out, so neither the config nor a caller can change the ring", () => {
    const configKey = Uint8Array.from(k1);
    const ring = createKeyRing({ current: "a", keys: new Map([["a", configKey]]) });
    configKey.fill(0);
    const handedOut = ring.getKey("a");
    assert.deepEqual(handedOut, k1);
    handedOut?.fill(0);
    assert.deepEqual(ring.getKey("a"), k1);
  });

  it("is frozen", () => {
    const ring = createKeyRing({ current: "a", keys: new Map([["a", k1]]) });
    assert.ok(Object.isFrozen(ring));
    assert.ok(Object.isFrozen(ring.kids));
  });

  it("refuses key ids outside [A-Za-z0-9_-]{1,32}", () => {
    for (const kid of ["", "a.b", "a b", "é", "a/b", "x".repeat(33), "a\0"]) {
      assert.throws(
        () =>
          createKeyRing({
            current: "ok",
            keys: new Map([
              ["ok", k1],
              [kid, k2],
            ]),
          }),
        TypeError,
        kid,
      );
      assert.throws(() => createKeyRing({ current: kid, keys: new Map([[kid, k1]]) }), TypeError, kid);
    }
    assert.equal(createKeyRing({ current: "x".repeat(32), keys: new Map([["x".repeat(32), k1]]) }).kids.length, 1);
  });

  it("refuses keys that are not 32 bytes, naming the kid but not the key", () => {
    for (const length of [0, 16, 31, 33, 64]) {
      assert.throws(
        () => createKeyRing({ current: "a", keys: new Map([["a", new Uint8Array(length)]]) }),
        (error: Error) => error instanceof TypeError && error.message.includes('"a"') && error.message.includes("32"),
        String(length),
      );
    }
    assert.throws(() =>
      createKeyRing({ current: "a", keys: new Map([["a", "k".repeat(32) as unknown as Uint8Array]]) }),
    );
  });

  it("refuses a current id that has no key", () => {
    assert.throws(() => createKeyRing({ current: "b", keys: new Map([["a", k1]]) }), /current key id "b" has no key/);
    assert.throws(() => createKeyRing({ current: "a", keys: new Map() }), /has no key/);
  });

  it("refuses the same key under two ids", () => {
    assert.throws(
      () =>
        createKeyRing({
          current: "a",
          keys: new Map([
            ["a", k1],
            ["b", Uint8Array.from(k1)],
          ]),
        }),
      /keys "a" and "b" are the same key/,
    );
  });

  it("refuses keys given as something other than a Map", () => {
    const keys = { a: k1 } as unknown as ReadonlyMap<string, Uint8Array>;
    assert.throws(() => createKeyRing({ current: "a", keys }), /keys must be a Map/);
    assert.throws(() => createKeyRing(null as never), TypeError);
  });
});
