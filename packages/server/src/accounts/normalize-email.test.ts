import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeEmail } from "./normalize-email.ts";

describe("normalizeEmail", () => {
  it("trims and lowercases the domain but keeps the local part as typed", () => {
    assert.equal(normalizeEmail("  Alice.Smith+tag@Example.COM \n"), "Alice.Smith+tag@example.com");
  });

  it("puts the address in NFC so composed and decomposed forms index the same", () => {
    const composed = "jos\u00e9@example.org";
    const decomposed = "jose\u0301@example.org";
    assert.notEqual(composed, decomposed);
    assert.equal(normalizeEmail(decomposed), composed);
  });

  it("converts an internationalized domain to its ASCII form", () => {
    assert.equal(normalizeEmail("a@B\u00dcCHER.example"), "a@xn--bcher-kva.example");
    assert.equal(normalizeEmail("a@xn--bcher-kva.example"), "a@xn--bcher-kva.example");
  });

  it("refuses what is not an address", () => {
    for (const input of [
      "",
      "plain",
      "@example.com",
      "a@",
      "a@b@example.com",
      "a b@example.com",
      "a@exa mple.com",
      '"quoted"@example.com',
      "a@localhost",
      "a@127.0.0.1",
      "a@[127.0.0.1]",
      ".a@example.com",
      "a..b@example.com",
      "a\u0000@example.com",
      `${"x".repeat(65)}@example.com`,
      `a@${"x".repeat(250)}.com`,
      42,
      null,
    ]) {
      assert.equal(normalizeEmail(input), null, JSON.stringify(input));
    }
  });
});
