import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createIpMatcher, ipRangePrefixLength, normalizeClientIp, normalizeIpRange } from "./ip-allowlist.ts";

describe("IP allowlists", () => {
  it("normalizes IPv4 and IPv6 addresses and CIDR ranges, and refuses anything else", () => {
    assert.equal(normalizeIpRange("192.0.2.1"), "192.0.2.1");
    assert.equal(normalizeIpRange(" 10.0.0.0/08 "), "10.0.0.0/8");
    assert.equal(normalizeIpRange("2001:DB8::/32"), "2001:db8::/32");
    assert.equal(normalizeIpRange("::1"), "::1");
    for (const bad of [
      "",
      "example.com",
      "10.0.0.0/33",
      "10.0.0/8",
      "2001:db8::/129",
      "10.0.0.0/-1",
      "1.2.3.4/8/9",
      "fe80::1%eth0",
      "10.0.0.0/",
    ]) {
      assert.equal(normalizeIpRange(bad), null, bad);
    }
    assert.deepEqual(ipRangePrefixLength("10.0.0.0/8"), { family: "ipv4", bits: 8 });
    assert.deepEqual(ipRangePrefixLength("::1"), { family: "ipv6", bits: 128 });
  });

  it("matches by number, for IPv4, IPv6 and IPv4-mapped IPv6 peers", () => {
    const allowed = createIpMatcher(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]);
    for (const ip of [
      "10.0.0.1",
      "10.255.255.255",
      "192.0.2.7",
      "::ffff:10.1.2.3",
      "2001:db8::1",
      "2001:DB8:ffff::1",
    ]) {
      assert.equal(allowed(ip), true, ip);
    }
    for (const ip of ["11.0.0.1", "192.0.2.8", "2001:db9::1", "::1", "not an ip", "", "::ffff:11.0.0.1"]) {
      assert.equal(allowed(ip), false, ip);
    }
    assert.equal(normalizeClientIp("::FFFF:192.0.2.1"), "192.0.2.1");
    assert.throws(() => createIpMatcher(["nope"]), TypeError);
    assert.equal(
      createIpMatcher([])("10.0.0.1"),
      false,
      "an empty matcher allows nothing; callers decide what empty means",
    );
  });
});
