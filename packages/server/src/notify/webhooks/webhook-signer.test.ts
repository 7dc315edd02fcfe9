import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  exportEd25519PrivateJwk,
  fromBase64Url,
  generateEd25519KeyPair,
  importEd25519PublicKey,
  parseRequestSignature,
  utf8,
  verifyRequest,
} from "@countersign/protocol";
import type { SigningJwk } from "../../config/config.ts";
import { createWebhookSigner, WEBHOOK_USER_AGENT } from "./webhook-signer.ts";

async function signingKey(kid: string): Promise<SigningJwk> {
  const { privateKey } = await generateEd25519KeyPair({ extractable: true });
  return { ...(await exportEd25519PrivateJwk(privateKey)), kid };
}

const CREATED = 1_795_000_000;

async function verify(url: URL, headers: Record<string, string>, body: Uint8Array, key: SigningJwk) {
  return verifyRequest(
    {
      method: "POST",
      authority: headers.host ?? "",
      path: url.pathname,
      query: url.search,
      scheme: url.protocol.slice(0, -1),
      headers,
      body,
    },
    {
      now: CREATED + 10,
      resolveKey: async (keyid) =>
        keyid === key.kid ? importEd25519PublicKey(fromBase64Url(key.x) as Uint8Array) : null,
    },
  );
}

describe("createWebhookSigner", () => {
  it("signs under the Countersign profile with the key's kid, verifiable with the public key alone", async () => {
    const key = await signingKey("srv-key-1");
    const signer = createWebhookSigner(key);
    const url = new URL("https://hooks.example.com:8443/cs/hook?tenant=7");
    const body = utf8('{"type":"approval.expired"}');
    const headers = await signer.headers({
      url,
      body,
      deliveryId: "whd_DDDDDDDDDDDDDDDDDDDDDD",
      eventType: "approval.expired",
      created: CREATED,
    });
    assert.equal(signer.keyId, "srv-key-1");
    assert.equal(headers.host, "hooks.example.com:8443");
    assert.equal(headers["content-type"], "application/json");
    assert.equal(headers["user-agent"], WEBHOOK_USER_AGENT);
    assert.equal(headers["countersign-delivery"], "whd_DDDDDDDDDDDDDDDDDDDDDD");
    assert.equal(headers["countersign-event"], "approval.expired");
    assert.match(headers["content-digest"] ?? "", /^sha-256=:[A-Za-z0-9+/]{43}=:$/);

    const parsed = parseRequestSignature(headers);
    assert.ok(parsed.ok);
    // The delivery id rides in idempotency-key, which the profile covers.
    assert.deepEqual(parsed.signature.components, [
      "@method",
      "@authority",
      "@path",
      "@query",
      "content-digest",
      "idempotency-key",
    ]);
    assert.equal(parsed.signature.params.keyid, "srv-key-1");
    assert.equal(parsed.signature.params.created, CREATED);
    assert.equal(parsed.signature.params.tag, "countersign");

    assert.deepEqual(await verify(url, headers, body, key), {
      ok: true,
      keyid: "srv-key-1",
      nonce: parsed.signature.params.nonce,
      created: CREATED,
    });
    // The delivery id is covered: a receiver cannot be fed another one under the same signature.
    const swapped = { ...headers, "idempotency-key": "whd_EEEEEEEEEEEEEEEEEEEEEE" };
    assert.deepEqual(await verify(url, swapped, body, key), { ok: false, code: "invalid_signature" });
    // Another server key does not verify it.
    const other = { ...(await signingKey("srv-key-1")) };
    assert.deepEqual(await verify(url, headers, body, other), { ok: false, code: "invalid_signature" });
  });

  it("signs each attempt afresh over the same digest", async () => {
    const signer = createWebhookSigner(await signingKey("k"));
    const webhook = {
      url: new URL("https://[2606:4700::1]/h"),
      body: utf8("{}"),
      deliveryId: "whd_DDDDDDDDDDDDDDDDDDDDDD",
      eventType: "approval.canceled" as const,
      created: CREATED,
    };
    const first = await signer.headers(webhook);
    const second = await signer.headers({ ...webhook, created: CREATED + 3600 });
    assert.equal(first.host, "[2606:4700::1]");
    assert.equal(first["content-digest"], second["content-digest"]);
    assert.notEqual(first["signature-input"], second["signature-input"]);
    assert.notEqual(first.signature, second.signature);
  });

  it("refuses a key without a kid", () => {
    assert.throws(() => createWebhookSigner({ kty: "OKP", crv: "Ed25519", x: "x", d: "d", kid: "" }), TypeError);
  });
});
