import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyAddress, isDeliverableAddress } from "./classify-address.ts";

describe("classifyAddress", () => {
  it("calls globally reachable IPv4 and IPv6 addresses public", () => {
    for (const address of ["93.184.215.14", "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.0", "172.32.0.1"]) {
      assert.equal(classifyAddress(address), "public", address);
    }
    for (const address of ["2606:4700:4700::1111", "2a00:1450:4001:82a::200e", "[2001:4860:4860::8888]"]) {
      assert.equal(classifyAddress(address), "public", address);
    }
  });

  it("calls 127.0.0.0/8 and ::1 loopback, in any spelling", () => {
    for (const address of ["127.0.0.1", "127.255.255.254", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) {
      assert.equal(classifyAddress(address), "loopback", address);
    }
  });

  it("restricts private, CGNAT, link-local, multicast, unspecified and reserved IPv4", () => {
    for (const address of [
      "0.0.0.0",
      "10.1.2.3",
      "100.64.0.1",
      "100.127.255.255",
      "169.254.169.254",
      "172.16.0.1",
      "172.31.255.255",
      "192.0.0.8",
      "192.0.2.1",
      "192.168.1.1",
      "198.18.0.1",
      "198.51.100.7",
      "203.0.113.9",
      "224.0.0.251",
      "239.255.255.250",
      "240.0.0.1",
      "255.255.255.255",
    ]) {
      assert.equal(classifyAddress(address), "restricted", address);
    }
  });

  it("restricts IPv6 outside global unicast and the special blocks inside it", () => {
    for (const address of [
      "::",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "fec0::1",
      "ff02::1",
      "::10.0.0.1",
      "2001:db8::1",
      "2001::1",
      "2002:a00:1::1",
      "3fff::1",
      "64:ff9b:1::a00:1",
      "100::1",
    ]) {
      assert.equal(classifyAddress(address), "restricted", address);
    }
  });

  it("judges IPv4-mapped and NAT64 addresses as the IPv4 address they reach", () => {
    assert.equal(classifyAddress("::ffff:10.0.0.1"), "restricted");
    assert.equal(classifyAddress("::ffff:a00:1"), "restricted"); // the WHATWG URL spelling of the same
    assert.equal(classifyAddress("[::ffff:a9fe:a9fe]"), "restricted"); // 169.254.169.254
    assert.equal(classifyAddress("::ffff:7f00:1"), "loopback");
    assert.equal(classifyAddress("64:ff9b::c0a8:101"), "restricted"); // 192.168.1.1
    assert.equal(classifyAddress("::ffff:8.8.8.8"), "public");
    assert.equal(classifyAddress("64:ff9b::808:808"), "public");
  });

  it("calls anything that is not an IP address invalid", () => {
    for (const input of ["", "localhost", "example.com", "fe80::1%eth0", "1.2.3", "[::1", "::g"]) {
      assert.equal(classifyAddress(input), "invalid", input);
    }
  });
});

describe("isDeliverableAddress", () => {
  it("lets loopback through only when loopback is allowed", () => {
    assert.equal(isDeliverableAddress("127.0.0.1", false), false);
    assert.equal(isDeliverableAddress("127.0.0.1", true), true);
    assert.equal(isDeliverableAddress("10.0.0.1", true), false);
    assert.equal(isDeliverableAddress("93.184.215.14", false), true);
    assert.equal(isDeliverableAddress("not-an-ip", true), false);
  });
});
