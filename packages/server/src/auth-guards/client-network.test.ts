import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clientNetwork } from "./client-network.ts";

describe("clientNetwork", () => {
  it("keeps an IPv4 address as it is", () => {
    assert.equal(clientNetwork("203.0.113.7"), "203.0.113.7");
    assert.equal(clientNetwork(" 203.0.113.7 "), "203.0.113.7");
  });

  it("maps an IPv4-mapped IPv6 address to its IPv4 address, in every spelling", () => {
    for (const text of ["::ffff:203.0.113.7", "::FFFF:cb00:7107", "0:0:0:0:0:ffff:cb00:7107"]) {
      assert.equal(clientNetwork(text), "203.0.113.7", text);
    }
  });

  it("reduces IPv6 to its /64, so every address of one subscriber counts as one", () => {
    const expected = "2001:db8:0:1::/64";
    for (const text of [
      "2001:db8:0:1::1",
      "2001:DB8:0000:0001:ffff:ffff:ffff:ffff",
      "2001:db8::1:0:0:0:7",
      "2001:db8:0:1:1:2:3:4%eth0",
      "2001:db8:0:1::203.0.113.7",
    ]) {
      assert.equal(clientNetwork(text), expected, text);
    }
    assert.notEqual(clientNetwork("2001:db8:0:2::1"), expected);
    assert.equal(clientNetwork("::1"), "::/64");
    assert.equal(clientNetwork("fe80::1"), "fe80::/64");
  });

  it("keeps text that is not an address, lower-cased, so it is still counted", () => {
    assert.equal(clientNetwork("Unknown"), "unknown");
    assert.equal(clientNetwork("1.2.3"), "1.2.3");
    assert.equal(clientNetwork("2001:db8::1::2"), "2001:db8::1::2");
  });
});
