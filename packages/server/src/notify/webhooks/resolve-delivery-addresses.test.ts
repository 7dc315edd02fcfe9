import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type HostResolver, type ResolvedAddress, resolveDeliveryAddresses } from "./resolve-delivery-addresses.ts";

/** A resolver answering from a table, recording what it was asked. */
function tableResolver(table: Record<string, ResolvedAddress[]>): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const found = table[hostname];
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return found;
  };
  return Object.assign(resolve, { asked });
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

describe("resolveDeliveryAddresses", () => {
  const resolve = tableResolver({
    "hooks.example.com": [v4("93.184.215.14"), v6("2606:2800:21f:cb07:6820:80da:af6b:8b2c")],
    "split.example.com": [v4("93.184.215.14"), v4("10.0.0.8")],
    "mapped.example.com": [v6("::ffff:192.168.1.10")],
    "metadata.example.com": [v4("169.254.169.254")],
    "rebind.example.com": [v4("127.0.0.1")],
    localhost: [v6("::1"), v4("127.0.0.1")],
    "empty.example.com": [],
  });
  const vet = (url: string, allowLoopback = false) =>
    resolveDeliveryAddresses(new URL(url), { resolve, allowLoopback });

  it("passes a host whose every address is public, with all of them", async () => {
    assert.deepEqual(await vet("https://hooks.example.com/h"), {
      ok: true,
      addresses: [v4("93.184.215.14"), v6("2606:2800:21f:cb07:6820:80da:af6b:8b2c")],
    });
  });

  it("refuses a host with even one non-public address", async () => {
    for (const host of ["split", "mapped", "metadata"]) {
      assert.deepEqual(await vet(`https://${host}.example.com/h`, true), {
        ok: false,
        reason: "host resolves to a non-public address",
      });
    }
  });

  it("refuses a public name that resolves to loopback unless loopback is allowed", async () => {
    assert.equal((await vet("https://rebind.example.com/")).ok, false);
    assert.equal((await vet("https://rebind.example.com/", true)).ok, true);
  });

  it("lets http reach loopback addresses only, and only when allowed", async () => {
    assert.deepEqual(await vet("http://localhost:8080/h", true), { ok: true, addresses: [v6("::1"), v4("127.0.0.1")] });
    assert.equal((await vet("http://localhost:8080/h", false)).ok, false);
    // Public addresses are no excuse for plain http.
    assert.equal((await vet("http://hooks.example.com/h", true)).ok, false);
  });

  it("vets IP-literal hosts without resolving them", async () => {
    const before = resolve.asked.length;
    assert.deepEqual(await vet("https://93.184.215.14/h"), { ok: true, addresses: [v4("93.184.215.14")] });
    assert.deepEqual(await vet("http://[::1]:9/h", true), { ok: true, addresses: [v6("::1")] });
    assert.equal((await vet("https://[::ffff:a00:1]/h", true)).ok, false);
    assert.equal(resolve.asked.length, before);
  });

  it("refuses names that do not resolve, with a short reason", async () => {
    assert.deepEqual(await vet("https://nowhere.example.com/"), {
      ok: false,
      reason: "host name did not resolve (ENOTFOUND)",
    });
    assert.deepEqual(await vet("https://empty.example.com/"), { ok: false, reason: "host name has no address" });
  });
});
