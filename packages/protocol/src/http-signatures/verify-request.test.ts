import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { fromBase64, toBase64 } from "../encoding/base64.ts";
import { utf8 } from "../encoding/bytes.ts";
import { checkSignatureWindow } from "./check-signature-window.ts";
import { parseRequestSignature } from "./parse-request-signature.ts";
import { signRequest } from "./sign-request.ts";
import {
  agentKey,
  approvalRequest,
  arbitraryRequest,
  NOW,
  type RequestWithBody,
  replaceChar,
} from "./test-support/request-fixtures.ts";
import { verifyParsedSignature } from "./verify-parsed-signature.ts";
import { verifyRequest } from "./verify-request.ts";

type Key = Awaited<ReturnType<typeof agentKey>>;

function resolverFor(key: Key) {
  return { resolveKey: async (keyid: string) => (keyid === key.keyId ? key.publicKey : null), now: NOW };
}

async function signed(request: RequestWithBody, key: Key, options = {}): Promise<RequestWithBody> {
  const added = await signRequest(request, key, { created: NOW, ...options });
  return { ...request, headers: { ...request.headers, ...added } };
}

function withHeader(request: RequestWithBody, name: string, value: string | undefined): RequestWithBody {
  return { ...request, headers: { ...request.headers, [name]: value } };
}

describe("verifyRequest", () => {
  let key: Key;
  let request: RequestWithBody;

  before(async () => {
    key = await agentKey();
    request = await signed(approvalRequest(), key);
  });

  it("accepts a signed request and returns what the replay check needs", async () => {
    const result = await verifyRequest(request, resolverFor(key));
    assert.ok(result.ok);
    assert.equal(result.keyid, "agt_test_1");
    assert.equal(result.created, NOW);
    const parsed = parseRequestSignature(request.headers);
    assert.ok(parsed.ok);
    assert.equal(result.nonce, parsed.signature.params.nonce);
  });

  it("answers digest_mismatch for a changed body, a missing digest or a malformed one", async () => {
    const body = utf8('{"action_type":"deploy","title":"Deploy v3 to production"}');
    assert.deepEqual(await verifyRequest({ ...request, body }, resolverFor(key)), {
      ok: false,
      code: "digest_mismatch",
    });
    assert.deepEqual(await verifyRequest(withHeader(request, "content-digest", undefined), resolverFor(key)), {
      ok: false,
      code: "digest_mismatch",
    });
    assert.deepEqual(await verifyRequest(withHeader(request, "content-digest", "sha-256=:x:"), resolverFor(key)), {
      ok: false,
      code: "digest_mismatch",
    });
    // A digest of an empty body still has to match when the body is absent.
    assert.deepEqual(await verifyRequest({ ...request, body: undefined }, resolverFor(key)), {
      ok: false,
      code: "digest_mismatch",
    });
  });

  it("answers signature_missing for an unsigned request without a body", async () => {
    const unsigned = { ...approvalRequest(), method: "GET", body: undefined };
    assert.deepEqual(await verifyRequest(unsigned, resolverFor(key)), { ok: false, code: "signature_missing" });
  });

  it("answers invalid_signature for an unknown key id or another key", async () => {
    assert.deepEqual(await verifyRequest(request, { resolveKey: async () => null, now: NOW }), {
      ok: false,
      code: "invalid_signature",
    });
    const other = await agentKey();
    assert.deepEqual(await verifyRequest(request, { resolveKey: async () => other.publicKey, now: NOW }), {
      ok: false,
      code: "invalid_signature",
    });
  });

  it("answers signature_expired outside ±300 s of created, and after expires", async () => {
    const at = (now: number, maxSkewSeconds?: number) =>
      verifyRequest(request, { ...resolverFor(key), now, ...(maxSkewSeconds === undefined ? {} : { maxSkewSeconds }) });
    assert.equal((await at(NOW + 300)).ok, true);
    assert.equal((await at(NOW - 300)).ok, true);
    assert.deepEqual(await at(NOW + 301), { ok: false, code: "signature_expired" });
    assert.deepEqual(await at(NOW - 301), { ok: false, code: "signature_expired" });
    assert.deepEqual(await at(NOW + 31, 30), { ok: false, code: "signature_expired" });

    const expiring = await signed(approvalRequest(), key, { expires: NOW + 10 });
    assert.equal((await verifyRequest(expiring, { ...resolverFor(key), now: NOW + 10 })).ok, true);
    assert.deepEqual(await verifyRequest(expiring, { ...resolverFor(key), now: NOW + 11 }), {
      ok: false,
      code: "signature_expired",
    });
  });

  it("checks the signature before the time window", async () => {
    const other = await agentKey();
    assert.deepEqual(await verifyRequest(request, { resolveKey: async () => other.publicKey, now: NOW + 10_000 }), {
      ok: false,
      code: "invalid_signature",
    });
  });

  it("lets a failing key lookup propagate instead of calling it a bad signature", async () => {
    const failure = new Error("database unavailable");
    await assert.rejects(
      verifyRequest(request, {
        resolveKey: async () => {
          throw failure;
        },
        now: NOW,
      }),
      (error) => error === failure,
    );
  });

  it("refuses invalid options", async () => {
    await assert.rejects(verifyRequest(request, { ...resolverFor(key), maxSkewSeconds: -1 }), TypeError);
    await assert.rejects(verifyRequest(request, { ...resolverFor(key), now: Number.NaN }), TypeError);
  });

  it("never throws on arbitrary header values", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.string({ unit: "binary" }), { nil: undefined }),
        fc.option(fc.string({ unit: "binary" }), { nil: undefined }),
        fc.option(fc.string({ unit: "binary" }), { nil: undefined }),
        async (signatureInput, signature, contentDigest) => {
          const garbled = {
            ...request,
            headers: {
              ...request.headers,
              "signature-input": signatureInput,
              signature,
              "content-digest": contentDigest,
            },
          };
          const result = await verifyRequest(garbled, resolverFor(key));
          assert.equal(result.ok, false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("verifies what it signs, for arbitrary valid requests", async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryRequest, async (generated) => {
        const signedRequest = await signed(generated, key);
        const result = await verifyRequest(signedRequest, resolverFor(key));
        assert.ok(result.ok, JSON.stringify(result));
        assert.equal(result.keyid, key.keyId);
      }),
    );
  });

  it("fails once any byte of a covered value, the body, Signature-Input or the signature changes", async () => {
    const LOWER = "abcdefghijklmnopqrstuvwxyz0123456789";
    const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("");
    const targets = [
      "method",
      "authority",
      "path",
      "query",
      "content-digest",
      "idempotency-key",
      "body",
      "signature-input",
      "signature-bytes",
      "signature-text",
    ] as const;

    await fc.assert(
      fc.asyncProperty(
        arbitraryRequest,
        fc.constantFrom(...targets),
        fc.nat(),
        fc.nat(),
        async (generated, target, index, pick) => {
          const original = await signed(generated, key);
          const headers = original.headers as Record<string, string>;
          let changed: RequestWithBody;
          switch (target) {
            case "method":
              changed = {
                ...original,
                method: replaceChar(
                  original.method,
                  index,
                  pick,
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                ),
              };
              break;
            case "authority":
              // @authority is case-insensitive (RFC 9110 §4.2.3), so a case change is no change.
              changed = { ...original, authority: replaceChar(original.authority, index, pick, LOWER, true) };
              break;
            case "path":
              changed = { ...original, path: replaceChar(original.path, index, pick, LOWER) };
              break;
            case "query":
              if (original.query === "") return; // no byte to change: "" and "?" are the same @query
              changed = { ...original, query: replaceChar(original.query, index, pick, LOWER) };
              break;
            case "content-digest":
            case "idempotency-key": {
              const value = headers[target];
              if (value === undefined) return;
              changed = withHeader(original, target, replaceChar(value, index, pick, LOWER));
              break;
            }
            case "body": {
              const body = original.body;
              if (body === undefined || body.length === 0) return;
              const copy = body.slice();
              copy[index % copy.length] = ((copy[index % copy.length] as number) + 1 + (pick % 255)) & 0xff;
              changed = { ...original, body: copy };
              break;
            }
            case "signature-input":
              changed = withHeader(original, target, replaceChar(headers[target] as string, index, pick, PRINTABLE));
              break;
            case "signature-bytes": {
              const bytes = fromBase64((headers.signature as string).slice(4, -1));
              assert.ok(bytes);
              bytes[index % 64] = ((bytes[index % 64] as number) + 1 + (pick % 255)) & 0xff;
              changed = withHeader(original, "signature", `cs=:${toBase64(bytes)}:`);
              break;
            }
            case "signature-text":
              changed = withHeader(
                original,
                "signature",
                replaceChar(headers.signature as string, index, pick, PRINTABLE),
              );
              break;
          }
          const result = await verifyRequest(changed, resolverFor(key));
          assert.equal(result.ok, false, `${target} changed but still verified`);
          assert.ok(
            !result.ok && (result.code === "invalid_signature" || result.code === "digest_mismatch"),
            JSON.stringify(result),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("verifyParsedSignature", () => {
  it("checks only the signature, and re-checks the components against the request", async () => {
    const key = await agentKey();
    const request = await signed(approvalRequest(), key);
    const parsed = parseRequestSignature(request.headers);
    assert.ok(parsed.ok);
    assert.equal(await verifyParsedSignature(request, parsed.signature, key.publicKey), true);
    // The parsed signature covers idempotency-key; a request without one is not the signed request.
    assert.equal(
      await verifyParsedSignature(withHeader(request, "idempotency-key", undefined), parsed.signature, key.publicKey),
      false,
    );
    assert.equal(
      await verifyParsedSignature({ ...request, path: "/v1/other" }, parsed.signature, key.publicKey),
      false,
    );
    const wrongType = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ])) as CryptoKey;
    assert.equal(await verifyParsedSignature(request, parsed.signature, wrongType), false);
  });
});

describe("checkSignatureWindow", () => {
  it("allows created within the skew either way and refuses past expires", () => {
    assert.equal(checkSignatureWindow({ created: 1000 }, 1300), true);
    assert.equal(checkSignatureWindow({ created: 1000 }, 700), true);
    assert.equal(checkSignatureWindow({ created: 1000 }, 1301), false);
    assert.equal(checkSignatureWindow({ created: 1000 }, 699), false);
    assert.equal(checkSignatureWindow({ created: 1000 }, 1010, 5), false);
    assert.equal(checkSignatureWindow({ created: 1000, expires: 1005 }, 1005), true);
    assert.equal(checkSignatureWindow({ created: 1000, expires: 1005 }, 1006), false);
  });

  it("refuses a negative or non-finite skew", () => {
    assert.throws(() => checkSignatureWindow({ created: 1000 }, 1000, -1), TypeError);
    assert.throws(() => checkSignatureWindow({ created: 1000 }, Number.POSITIVE_INFINITY), TypeError);
  });
});
