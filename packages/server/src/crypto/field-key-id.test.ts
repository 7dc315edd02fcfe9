import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encryptField } from "./field-cipher.ts";
import { fieldKeyId } from "./field-key-id.ts";

describe("fieldKeyId", () => {
  it("returns the kid an envelope written by encryptField names", () => {
    const envelope = encryptField(
      { kid: "dk_abc-DEF_123", key: new Uint8Array(32).fill(7) },
      { table: "t", column: "c", rowId: "1" },
      "x",
    );
    assert.equal(fieldKeyId(envelope), "dk_abc-DEF_123");
  });

  it("returns null for anything that is not a v1 envelope with a valid kid", () => {
    for (const value of [
      "",
      "v1",
      "v1.kid",
      "v2.kid.AAAA",
      "v1..AAAA",
      "v1.kid.AAAA.extra",
      "v1.bad kid.AAAA",
      `v1.${"a".repeat(33)}.AAAA`,
    ]) {
      assert.equal(fieldKeyId(value), null, value);
    }
    assert.equal(fieldKeyId(42 as unknown as string), null);
  });
});
