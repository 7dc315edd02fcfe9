import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { describe, it } from "node:test";
import { createVerifier, httpbis } from "http-message-signatures";
import { importEd25519PublicKey } from "../crypto/ed25519.ts";
import { createContentDigest } from "../digest/create-content-digest.ts";
import { fromBase64Url, toBase64Url } from "../encoding/base64.ts";
import { randomBytes, utf8 } from "../encoding/bytes.ts";
import type { HttpRequestParts } from "./http-request-parts.ts";
import { signRequest } from "./sign-request.ts";
import { agentKey, NOW } from "./test-support/request-fixtures.ts";
import { verifyRequest } from "./verify-request.ts";

/**
 * Interoperability with an independent RFC 9421 implementation, dhensby/node-http-message-signatures
 * (DESIGN §4.1), in both directions.
 */

const COMPONENTS = ["@method", "@authority", "@path", "@query", "content-digest", "idempotency-key"];
const URL_STRING = "https://API.Countersign.example/v1/approvals?dry_run=1&z=%2F";
const BODY = utf8('{"action_type":"deploy","title":"Deploy v2"}');

function parts(headers: Record<string, string>): HttpRequestParts & { body: Uint8Array } {
  const url = new URL(URL_STRING);
  return {
    method: "POST",
    authority: url.host,
    path: url.pathname,
    query: url.search,
    scheme: "https",
    headers,
    body: BODY,
  };
}

/** Header names lowercased and values stringified, as our request model takes them. */
function lowercase(headers: Record<string, string | string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}

async function webCryptoPublicKey(key: KeyObject): Promise<CryptoKey> {
  const jwk = key.export({ format: "jwk" });
  const raw = fromBase64Url(jwk.x ?? "");
  assert.ok(raw);
  const imported = await importEd25519PublicKey(raw);
  assert.ok(imported);
  return imported;
}

describe("interop with http-message-signatures", () => {
  it("accepts a request the library signed under our profile, and rejects it after one changed byte", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const nonce = toBase64Url(randomBytes(16));
    const message = {
      method: "POST",
      url: URL_STRING,
      headers: {
        "content-type": "application/json",
        "content-digest": await createContentDigest(BODY),
        "idempotency-key": "7d2d3c1e-5b8a-4c2f-9e11-0a6b4f3c2d1e",
      },
    };
    const signedMessage = await httpbis.signMessage(
      {
        key: { id: "agt_interop", alg: "ed25519", sign: async (data: Buffer) => sign(null, data, privateKey) },
        name: "cs",
        fields: COMPONENTS,
        params: ["created", "nonce", "keyid", "alg", "tag"],
        paramValues: { created: new Date(NOW * 1000), nonce, tag: "countersign" },
      },
      message,
    );
    const headers = lowercase(signedMessage.headers);
    assert.match(
      headers["signature-input"] ?? "",
      /^cs=\("@method" "@authority" "@path" "@query" "content-digest" "idempotency-key"\);created=/,
    );

    const key = await webCryptoPublicKey(publicKey);
    const options = { resolveKey: async (keyid: string) => (keyid === "agt_interop" ? key : null), now: NOW };
    assert.deepEqual(await verifyRequest(parts(headers), options), {
      ok: true,
      keyid: "agt_interop",
      nonce,
      created: NOW,
    });

    const changedKey = { ...headers, "idempotency-key": "7d2d3c1e-5b8a-4c2f-9e11-0a6b4f3c2d1f" };
    assert.deepEqual(await verifyRequest(parts(changedKey), options), { ok: false, code: "invalid_signature" });
    const changedPath = { ...parts(headers), path: "/v1/approvalz" };
    assert.deepEqual(await verifyRequest(changedPath, options), { ok: false, code: "invalid_signature" });
  });

  it("has its verifier accept a request we signed, and reject it after one changed byte", async () => {
    const key = await agentKey("agt_ours");
    const request = parts({
      "content-type": "application/json",
      "idempotency-key": "0b9f5a8e-1c2d-4e3f-8a7b-6c5d4e3f2a1b",
    });
    const added = await signRequest(request, key, { created: NOW });
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", key.publicKey));
    const nodePublicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: toBase64Url(raw) }, format: "jwk" });

    const verifyConfig = {
      keyLookup: async (params: { keyid?: unknown }) =>
        params.keyid === "agt_ours"
          ? { id: "agt_ours", algs: ["ed25519"], verify: createVerifier(nodePublicKey, "ed25519") }
          : null,
      requiredFields: COMPONENTS,
      requiredParams: ["created", "nonce", "keyid", "alg", "tag"],
    };
    const headers = { ...(request.headers as Record<string, string>), ...added };
    assert.equal(await httpbis.verifyMessage(verifyConfig, { method: "POST", url: URL_STRING, headers }), true);

    const digest = headers["content-digest"] ?? "";
    const changed = { ...headers, "content-digest": digest.replace(/.(?==:$)/, (c) => (c === "A" ? "B" : "A")) };
    assert.notEqual(changed["content-digest"], digest);
    assert.equal(
      await httpbis.verifyMessage(verifyConfig, { method: "POST", url: URL_STRING, headers: changed }),
      false,
    );
    assert.equal(await httpbis.verifyMessage(verifyConfig, { method: "PUT", url: URL_STRING, headers }), false);
  });
});
