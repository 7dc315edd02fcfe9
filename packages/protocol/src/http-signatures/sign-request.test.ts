import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContentDigest } from "../digest/create-content-digest.ts";
import { fromBase64Url } from "../encoding/base64.ts";
import { utf8 } from "../encoding/bytes.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { parseRequestSignature } from "./parse-request-signature.ts";
import { signRequest } from "./sign-request.ts";
import { agentKey, approvalRequest, NOW } from "./test-support/request-fixtures.ts";

const NONCE = "AAECAwQFBgcICQoLDA0ODw"; // 16 bytes 00..0f

describe("signRequest", () => {
  it("covers the profile's components and parameters, in a fixed order", async () => {
    const key = await agentKey();
    const request = approvalRequest();
    const added = await signRequest(request, key, { created: NOW, nonce: NONCE });
    assert.deepEqual(Object.keys(added).sort(), ["content-digest", "signature", "signature-input"]);
    assert.equal(
      added["signature-input"],
      `cs=("@method" "@authority" "@path" "@query" "content-digest" "idempotency-key");created=${NOW};nonce="${NONCE}";keyid="agt_test_1";alg="ed25519";tag="countersign"`,
    );
    assert.match(added.signature ?? "", /^cs=:[A-Za-z0-9+/]{86}==:$/);
    assert.equal(added["content-digest"], await createContentDigest(request.body ?? new Uint8Array(0)));
  });

  it("leaves out content-digest and idempotency-key when the request has neither", async () => {
    const key = await agentKey();
    const request = { ...approvalRequest(), method: "GET", headers: {}, body: undefined };
    const added = await signRequest(request, key, { created: NOW, nonce: NONCE });
    assert.equal(added["content-digest"], undefined);
    assert.match(added["signature-input"] ?? "", /^cs=\("@method" "@authority" "@path" "@query"\);/);
  });

  it("does not add a digest for an empty body", async () => {
    const key = await agentKey();
    const added = await signRequest({ ...approvalRequest(), body: new Uint8Array(0) }, key, { created: NOW });
    assert.equal(added["content-digest"], undefined);
    assert.doesNotMatch(added["signature-input"] ?? "", /content-digest/);
  });

  it("covers a Content-Digest field the caller set, and checks it against the body", async () => {
    const key = await agentKey();
    const request = approvalRequest();
    const body = request.body ?? new Uint8Array(0);
    const sha512 = await createContentDigest(body, ["sha-512"]);
    const added = await signRequest({ ...request, headers: { ...request.headers, "content-digest": sha512 } }, key);
    assert.equal(added["content-digest"], undefined);
    assert.match(added["signature-input"] ?? "", /"content-digest"/);

    const wrong = await createContentDigest(utf8("something else"));
    await assert.rejects(
      signRequest({ ...request, headers: { ...request.headers, "content-digest": wrong } }, key),
      (error) => isCountersignError(error, "digest_mismatch"),
    );
  });

  it("adds an expires parameter when asked", async () => {
    const key = await agentKey();
    const added = await signRequest(approvalRequest(), key, { created: NOW, nonce: NONCE, expires: NOW + 60 });
    const parsed = parseRequestSignature({ ...approvalRequest().headers, ...added });
    assert.ok(parsed.ok);
    assert.equal(parsed.signature.params.expires, NOW + 60);
  });

  it("uses a fresh random nonce of 16 bytes and the current time by default", async () => {
    const key = await agentKey();
    const before = Math.floor(Date.now() / 1000);
    const first = parseRequestSignature({
      ...approvalRequest().headers,
      ...(await signRequest(approvalRequest(), key)),
    });
    const second = parseRequestSignature({
      ...approvalRequest().headers,
      ...(await signRequest(approvalRequest(), key)),
    });
    assert.ok(first.ok && second.ok);
    assert.equal(fromBase64Url(first.signature.params.nonce)?.length, 16);
    assert.notEqual(first.signature.params.nonce, second.signature.params.nonce);
    assert.ok(first.signature.params.created >= before && first.signature.params.created <= before + 5);
  });

  for (const [label, options, keyId] of [
    ["a short nonce", { nonce: "AAECAwQFBgcICQoLDA0O" }, "k"],
    ["a padded nonce", { nonce: `${NONCE}==` }, "k"],
    ["a fractional created", { created: NOW + 0.5 }, "k"],
    ["a negative created", { created: -1 }, "k"],
    ["expires not after created", { created: NOW, expires: NOW }, "k"],
    ["an empty key id", {}, ""],
    ["a key id with a line break", {}, "a\nb"],
  ] as const) {
    it(`refuses ${label} with validation_failed`, async () => {
      const key = await agentKey(keyId);
      await assert.rejects(signRequest(approvalRequest(), key, options), (error) =>
        isCountersignError(error, "validation_failed"),
      );
    });
  }

  it("refuses a covered value that cannot go in a signature base", async () => {
    const key = await agentKey();
    const request = approvalRequest();
    await assert.rejects(
      signRequest({ ...request, headers: { ...request.headers, "idempotency-key": "a\r\nx-injected: 1" } }, key),
      (error) => isCountersignError(error, "validation_failed"),
    );
    await assert.rejects(signRequest({ ...request, path: "v1/approvals" }, key), (error) =>
      isCountersignError(error, "validation_failed"),
    );
  });
});
