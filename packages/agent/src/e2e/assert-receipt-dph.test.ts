import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCountersignError } from "@countersign/protocol";
import { assertReceiptDph } from "./assert-receipt-dph.ts";

const HASH = `sha256:${"a".repeat(64)}`;
const jws = (claims: Record<string, unknown>): string =>
  `${Buffer.from('{"alg":"EdDSA"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;
const mismatch = (error: unknown) => isCountersignError(error, "display_hash_mismatch");

describe("assertReceiptDph", () => {
  it("accepts a receipt whose dph is the expected hash", () => {
    assert.doesNotThrow(() => assertReceiptDph(jws({ dph: HASH }), HASH));
  });

  it("refuses another dph, a missing one and an unreadable receipt", () => {
    assert.throws(() => assertReceiptDph(jws({ dph: `sha256:${"b".repeat(64)}` }), HASH), mismatch);
    assert.throws(() => assertReceiptDph(jws({}), HASH), mismatch);
    assert.throws(() => assertReceiptDph("not-a-jws", HASH), mismatch);
  });
});
