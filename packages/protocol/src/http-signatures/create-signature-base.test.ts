import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ed25519Sign, ed25519Verify, importEd25519PublicKey } from "../crypto/ed25519.ts";
import { fromBase64, toBase64 } from "../encoding/base64.ts";
import { utf8 } from "../encoding/bytes.ts";
import { componentValue } from "./component-value.ts";
import { createSignatureBase } from "./create-signature-base.ts";
import type { HttpRequestParts } from "./http-request-parts.ts";
import { parseSignatureInput, parseSignatureValue } from "./parse-signature-fields.ts";
import { serializeSignatureParams } from "./serialize-signature-params.ts";
import {
  B26_COMPONENTS,
  B26_SIGNATURE,
  B26_SIGNATURE_BASE,
  B26_SIGNATURE_INPUT,
  B26_SIGNATURE_PARAMS,
  TEST_KEY_ED25519_PKCS8,
  TEST_KEY_ED25519_SPKI,
  TEST_REQUEST,
} from "./test-support/rfc9421-vectors.ts";

function der(base64: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64(base64);
  assert.ok(bytes);
  return bytes as Uint8Array<ArrayBuffer>;
}

async function testKeys(): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  const privateKey = await crypto.subtle.importKey("pkcs8", der(TEST_KEY_ED25519_PKCS8), "Ed25519", false, ["sign"]);
  // An Ed25519 SPKI is a 12-byte header followed by the 32-byte raw key (RFC 8410 §4).
  const spki = der(TEST_KEY_ED25519_SPKI);
  assert.equal(spki.length, 44);
  const publicKey = await importEd25519PublicKey(spki.subarray(12));
  assert.ok(publicKey);
  return { privateKey, publicKey };
}

describe("RFC 9421 Appendix B.2.6 (ed25519 over test-request)", () => {
  it("builds the signature base byte for byte", () => {
    const params = serializeSignatureParams(B26_COMPONENTS, [
      ["created", { type: "integer", value: 1618884473 }],
      ["keyid", { type: "string", value: "test-key-ed25519" }],
    ]);
    assert.equal(params, B26_SIGNATURE_PARAMS);
    assert.equal(createSignatureBase(TEST_REQUEST, B26_COMPONENTS, params), B26_SIGNATURE_BASE);
  });

  it("reproduces the published signature with test-key-ed25519", async () => {
    const { privateKey } = await testKeys();
    const signature = await ed25519Sign(privateKey, utf8(B26_SIGNATURE_BASE));
    assert.equal(`sig-b26=:${toBase64(signature)}:`, B26_SIGNATURE);
  });

  it("verifies the published Signature-Input and Signature fields", async () => {
    const { publicKey } = await testKeys();
    const input = parseSignatureInput(B26_SIGNATURE_INPUT, "sig-b26");
    const signature = parseSignatureValue(B26_SIGNATURE, "sig-b26");
    assert.ok(input && signature);
    assert.equal(input.signatureParams, B26_SIGNATURE_PARAMS);
    const base = createSignatureBase(TEST_REQUEST, input.components, input.signatureParams);
    assert.equal(base, B26_SIGNATURE_BASE);
    assert.equal(await ed25519Verify(publicKey, signature, utf8(base ?? "")), true);
    // The same signature must not verify over a base with one byte changed.
    assert.equal(await ed25519Verify(publicKey, signature, utf8(B26_SIGNATURE_BASE.replace("POST", "PUT"))), false);
  });
});

describe("derived components (RFC 9421 §2.2)", () => {
  const request: HttpRequestParts = { ...TEST_REQUEST, authority: "Example.COM:443" };

  it("derives each supported component from the B.2 test request", () => {
    assert.equal(componentValue(request, "@method"), "POST");
    assert.equal(componentValue(request, "@authority"), "example.com");
    assert.equal(componentValue(request, "@scheme"), "https");
    assert.equal(componentValue(request, "@target-uri"), "https://example.com/foo?param=Value&Pet=dog");
    assert.equal(componentValue(request, "@request-target"), "/foo?param=Value&Pet=dog");
    assert.equal(componentValue(request, "@path"), "/foo");
    assert.equal(componentValue(request, "@query"), "?param=Value&Pet=dog");
  });

  it("writes an absent query as ? (§2.2.7) and an empty path as / (§2.2.6)", () => {
    const bare = { ...request, path: "", query: "" };
    assert.equal(componentValue(bare, "@query"), "?");
    assert.equal(componentValue(bare, "@path"), "/");
    assert.equal(componentValue(bare, "@request-target"), "/");
    assert.equal(componentValue(bare, "@target-uri"), "https://example.com/");
  });

  it("keeps a non-default port and drops only the scheme's default one (RFC 9110 §4.2.3)", () => {
    assert.equal(componentValue({ ...request, authority: "example.com:8443" }, "@authority"), "example.com:8443");
    assert.equal(
      componentValue({ ...request, scheme: "http", authority: "example.com:80" }, "@authority"),
      "example.com",
    );
    assert.equal(
      componentValue({ ...request, scheme: "http", authority: "example.com:443" }, "@authority"),
      "example.com:443",
    );
    assert.equal(componentValue({ ...request, authority: "[::1]:443" }, "@authority"), "[::1]");
  });

  it("does not change the method's case (§2.2.1)", () => {
    assert.equal(componentValue({ ...request, method: "post" }, "@method"), "post");
  });

  it("refuses unknown derived names, @query-param, @status and malformed parts", () => {
    for (const name of ["@unknown", "@query-param", "@status", "@signature-params"]) {
      assert.equal(componentValue(request, name), null, name);
    }
    assert.equal(componentValue({ ...request, scheme: undefined }, "@scheme"), null);
    assert.equal(componentValue({ ...request, scheme: undefined }, "@target-uri"), null);
    assert.equal(componentValue({ ...request, path: "foo" }, "@path"), null);
    assert.equal(componentValue({ ...request, query: "a=b" }, "@query"), null);
    assert.equal(componentValue({ ...request, authority: "user@example.com" }, "@authority"), null);
  });
});

describe("field components (RFC 9421 §2.1)", () => {
  it("trims surrounding whitespace and unfolds obsolete line folding", () => {
    const request = { ...TEST_REQUEST, headers: { "x-example": " \tExample header\r\n    with some whitespace.  " } };
    assert.equal(componentValue(request, "x-example"), "Example header with some whitespace.");
  });

  it("keeps an empty field value", () => {
    assert.equal(componentValue({ ...TEST_REQUEST, headers: { "x-empty-header": "" } }, "x-empty-header"), "");
  });

  it("fails for an absent field, an uppercase name, or a value with a line break", () => {
    assert.equal(componentValue(TEST_REQUEST, "x-absent"), null);
    assert.equal(componentValue(TEST_REQUEST, "Content-Type"), null);
    assert.equal(componentValue({ ...TEST_REQUEST, headers: { "x-a": "one\ntwo" } }, "x-a"), null);
    assert.equal(componentValue({ ...TEST_REQUEST, headers: { "x-a": "caf\u00e9" } }, "x-a"), null);
  });
});

describe("createSignatureBase (RFC 9421 §2.5)", () => {
  it("fails on a repeated component or a listed @signature-params", () => {
    assert.equal(createSignatureBase(TEST_REQUEST, ["@method", "@method"], "()"), null);
    assert.equal(createSignatureBase(TEST_REQUEST, ["@signature-params"], "()"), null);
  });

  it("fails when a covered field is absent", () => {
    assert.equal(createSignatureBase(TEST_REQUEST, ["@method", "idempotency-key"], "()"), null);
  });

  it("ends with the @signature-params line and no trailing newline", () => {
    assert.equal(createSignatureBase(TEST_REQUEST, [], "();created=1"), '"@signature-params": ();created=1');
  });
});
