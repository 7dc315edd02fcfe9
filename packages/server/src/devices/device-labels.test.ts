import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeDeviceLabel } from "./device-labels.ts";

describe("device labels", () => {
  it("trims and NFC-normalizes, and keeps 64 characters (not UTF-16 units)", () => {
    assert.equal(normalizeDeviceLabel("  Cafe\u0301 laptop "), "Café laptop");
    assert.equal(normalizeDeviceLabel("📱".repeat(64)), "📱".repeat(64));
    assert.equal(normalizeDeviceLabel("x".repeat(65)), null);
  });

  it("refuses control and line-separator characters, lone surrogates and non-strings", () => {
    for (const input of ["a\nb", "a\u0000", "a\u2028b", "a\u0085", "\ud800", 42, null]) {
      assert.equal(normalizeDeviceLabel(input), null, JSON.stringify(input));
    }
  });

  it("allows an empty label only when asked (a platform may be unknown, a name may not)", () => {
    assert.equal(normalizeDeviceLabel("  "), null);
    assert.equal(normalizeDeviceLabel("  ", { allowEmpty: true }), "");
  });
});
