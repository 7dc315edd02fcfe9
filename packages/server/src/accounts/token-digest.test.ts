import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { createTokenDigester, newTicketSecret } from "./token-digest.ts";

describe("token digests", () => {
  const digests = createTokenDigester(randomBytes(32));

  it("is deterministic under one root secret and differs under another", () => {
    const a = digests.digest("email-code", "signup", "s", "123456");
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(digests.digest("email-code", "signup", "s", "123456"), a);
    assert.notEqual(createTokenDigester(randomBytes(32)).digest("email-code", "signup", "s", "123456"), a);
  });

  it("separates labels and part boundaries", () => {
    assert.notEqual(digests.digest("ticket", "abc"), digests.digest("challenge", "abc"));
    assert.notEqual(digests.digest("ticket", "ab", "c"), digests.digest("ticket", "a", "bc"));
  });

  it("refuses an unknown label", () => {
    assert.throws(() => digests.digest("session" as never, "x"), TypeError);
  });

  it("makes 256-bit ticket secrets", () => {
    const ticket = newTicketSecret();
    assert.match(ticket, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(newTicketSecret(), ticket);
  });
});
