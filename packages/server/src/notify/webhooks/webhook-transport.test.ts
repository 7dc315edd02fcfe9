import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { utf8 } from "@countersign/protocol";
import type { HostResolver, ResolvedAddress } from "./resolve-delivery-addresses.ts";
import { HOOK_TEST_TLS } from "./test-support/hook-test-tls.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./test-support/webhook-receiver.ts";
import { createWebhookTransport, type WebhookRequest } from "./webhook-transport.ts";

/** Answers every name with `addresses`, and counts the questions. */
function fixedResolver(addresses: ResolvedAddress[]): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  return Object.assign(
    async (hostname: string) => {
      asked.push(hostname);
      return addresses;
    },
    { asked },
  );
}

const LOCAL = [{ address: "127.0.0.1", family: 4 as const }];

function request(url: string, overrides: Partial<WebhookRequest> = {}): WebhookRequest {
  const parsed = new URL(url);
  return {
    url: parsed,
    headers: { host: parsed.host, "content-type": "application/json" },
    body: utf8('{"type":"approval.expired"}'),
    timeoutMs: 2_000,
    ...overrides,
  };
}

describe("the webhook transport", () => {
  const receivers: WebhookReceiver[] = [];
  const receiver = async (...args: Parameters<typeof startWebhookReceiver>) => {
    const started = await startWebhookReceiver(...args);
    receivers.push(started);
    return started;
  };
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("connects to the vetted address and keeps the host name in Host", async () => {
    const hooks = await receiver(() => 204);
    const resolve = fixedResolver(LOCAL);
    const send = createWebhookTransport({ allowLoopback: true, resolve });
    // hooks.invalid cannot resolve through real DNS (RFC 6761 §6.4): only the pin gets us there.
    const url = `http://hooks.invalid:${hooks.port}/cs/hook?tenant=7`;
    assert.deepEqual(await send(request(url)), { ok: true, status: 204 });
    assert.deepEqual(resolve.asked, ["hooks.invalid"]);
    const [got] = hooks.received;
    assert.equal(got?.method, "POST");
    assert.equal(got?.target, "/cs/hook?tenant=7");
    assert.equal(got?.headers.host, `hooks.invalid:${hooks.port}`);
    assert.equal(got?.headers["content-length"], "27");
    assert.equal(Buffer.from(got?.body ?? []).toString(), '{"type":"approval.expired"}');
  });

  it("never connects when any resolved address is refused", async () => {
    const hooks = await receiver(() => 200);
    const url = `https://hooks.example.com:${hooks.port}/h`;
    const cases: Array<[ResolvedAddress[], boolean]> = [
      [[...LOCAL, { address: "10.0.0.1", family: 4 }], true],
      [[{ address: "::ffff:192.168.0.1", family: 6 }], true],
      [LOCAL, false], // loopback, but loopback is not allowed
    ];
    for (const [addresses, allowLoopback] of cases) {
      const send = createWebhookTransport({ allowLoopback, resolve: fixedResolver(addresses) });
      assert.deepEqual(await send(request(url)), {
        ok: false,
        error: "refused: host resolves to a non-public address",
      });
    }
    assert.equal(hooks.received.length, 0);
  });

  it("sends plain http only to loopback addresses", async () => {
    const send = createWebhookTransport({
      allowLoopback: true,
      resolve: fixedResolver([{ address: "93.184.215.14", family: 4 }]),
    });
    assert.deepEqual(await send(request("http://hooks.example.com/h")), {
      ok: false,
      error: "refused: host resolves to a non-public address",
    });
  });

  it("returns a redirect's status without following it", async () => {
    const target = await receiver(() => 200);
    const hooks = await receiver(() => ({ status: 307, headers: { location: target.url } }));
    const send = createWebhookTransport({ allowLoopback: true });
    assert.deepEqual(await send(request(hooks.url)), { ok: true, status: 307 });
    assert.equal(hooks.received.length, 1);
    assert.equal(target.received.length, 0);
  });

  it("gives up at the timeout, and when aborted", async () => {
    const hooks = await receiver(() => "hang");
    const send = createWebhookTransport({ allowLoopback: true });
    assert.deepEqual(await send(request(hooks.url, { timeoutMs: 100 })), { ok: false, error: "timed out" });
    const abort = new AbortController();
    const pending = send(request(hooks.url, { signal: abort.signal }));
    await hooks.next(); // the request that timed out
    await hooks.next(); // this one, hanging
    abort.abort();
    assert.deepEqual(await pending, { ok: false, error: "aborted" });
    // A resolver that never answers is cut off by the timeout too.
    const stuck = createWebhookTransport({ allowLoopback: true, resolve: () => new Promise(() => {}) });
    assert.deepEqual(await stuck(request("https://hooks.example.com/", { timeoutMs: 100 })), {
      ok: false,
      error: "timed out",
    });
  });

  it("reports a refused connection by its code only", async () => {
    const hooks = await receiver(() => 200);
    const port = hooks.port;
    await hooks.close();
    receivers.splice(receivers.indexOf(hooks), 1);
    const send = createWebhookTransport({ allowLoopback: true });
    assert.deepEqual(await send(request(`http://127.0.0.1:${port}/h`)), {
      ok: false,
      error: "connection failed (ECONNREFUSED)",
    });
  });

  it("over https, sends SNI and checks the certificate against the host name, not the pinned address", async () => {
    const hooks = await receiver(() => 200, { tls: HOOK_TEST_TLS });
    const send = createWebhookTransport({ allowLoopback: true, resolve: fixedResolver(LOCAL), ca: HOOK_TEST_TLS.cert });
    assert.deepEqual(await send(request(`https://hook.test:${hooks.port}/h`)), { ok: true, status: 200 });
    assert.equal(hooks.received[0]?.servername, "hook.test");
    assert.equal(hooks.received[0]?.headers.host, `hook.test:${hooks.port}`);
    // Same address, another name: the certificate does not match it, so nothing is sent.
    const mismatch = await send(request(`https://other.test:${hooks.port}/h`));
    assert.deepEqual(mismatch, { ok: false, error: "connection failed (ERR_TLS_CERT_ALTNAME_INVALID)" });
    // And without the test CA, the self-signed certificate is not trusted.
    const untrusting = createWebhookTransport({ allowLoopback: true, resolve: fixedResolver(LOCAL) });
    const untrusted = await untrusting(request(`https://hook.test:${hooks.port}/h`));
    assert.deepEqual(untrusted, { ok: false, error: "connection failed (DEPTH_ZERO_SELF_SIGNED_CERT)" });
    assert.equal(hooks.received.length, 1);
  });
});
