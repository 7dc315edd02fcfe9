import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { toBase64 } from "../encoding/base64.ts";
import { parseRequestSignature } from "./parse-request-signature.ts";
import { signRequest } from "./sign-request.ts";
import { agentKey, approvalRequest, NOW } from "./test-support/request-fixtures.ts";

const NONCE = "AAECAwQFBgcICQoLDA0ODw";
const PARAMS = `created=${NOW};nonce="${NONCE}";keyid="agt_test_1";alg="ed25519";tag="countersign"`;
const COMPONENTS = '"@method" "@authority" "@path" "@query" "content-digest" "idempotency-key"';

describe("parseRequestSignature", () => {
  let headers: Record<string, string>;
  let signature: string;

  before(async () => {
    const request = approvalRequest();
    const added = await signRequest(request, await agentKey(), { created: NOW, nonce: NONCE });
    headers = { ...(request.headers as Record<string, string>), ...added };
    signature = added.signature as string;
  });

  function withInput(signatureInput: string, extra: Record<string, string | undefined> = {}) {
    return parseRequestSignature({ ...headers, "signature-input": signatureInput, ...extra });
  }

  it("reads a valid signature with its typed parameters", () => {
    assert.equal(headers["signature-input"], `cs=(${COMPONENTS});${PARAMS}`);
    const result = parseRequestSignature(headers);
    assert.ok(result.ok);
    assert.deepEqual(result.signature.components, [
      "@method",
      "@authority",
      "@path",
      "@query",
      "content-digest",
      "idempotency-key",
    ]);
    assert.deepEqual(result.signature.params, {
      created: NOW,
      nonce: NONCE,
      keyid: "agt_test_1",
      alg: "ed25519",
      tag: "countersign",
    });
    assert.equal(result.signature.signatureParams, `(${COMPONENTS});${PARAMS}`);
    assert.equal(result.signature.signature.length, 64);
  });

  it("accepts the components and parameters in any order, with other labels alongside", () => {
    const reordered = `other=("@method");created=1, cs=("idempotency-key" "@query" "content-digest" "@path" "@authority" "@method");tag="countersign";alg="ed25519";keyid="agt_test_1";nonce="${NONCE}";created=${NOW};expires=${NOW + 30}`;
    const result = withInput(reordered, { signature: `other=:AAAA:, ${signature}` });
    assert.ok(result.ok);
    assert.equal(result.signature.params.expires, NOW + 30);
    assert.equal(
      result.signature.signatureParams,
      `("idempotency-key" "@query" "content-digest" "@path" "@authority" "@method");tag="countersign";alg="ed25519";keyid="agt_test_1";nonce="${NONCE}";created=${NOW};expires=${NOW + 30}`,
    );
  });

  it("re-serializes the parameters rather than copying the header text", () => {
    const spaced = `cs=( ${COMPONENTS.replaceAll(" ", "  ")} );${PARAMS.replaceAll(";", "; ")}`;
    const result = withInput(spaced);
    assert.ok(result.ok);
    assert.equal(result.signature.signatureParams, `(${COMPONENTS});${PARAMS}`);
  });

  it("answers signature_missing when neither field is present", () => {
    const { "signature-input": _input, signature: _signature, ...unsigned } = headers;
    assert.deepEqual(parseRequestSignature(unsigned), { ok: false, code: "signature_missing" });
  });

  it("answers invalid_signature when only one field is present", () => {
    assert.deepEqual(parseRequestSignature({ ...headers, signature: undefined }), {
      ok: false,
      code: "invalid_signature",
    });
    assert.deepEqual(parseRequestSignature({ ...headers, "signature-input": undefined }), {
      ok: false,
      code: "invalid_signature",
    });
  });

  const cases: Array<[label: string, input: string, extra?: Record<string, string | undefined>]> = [
    ["garbage in Signature-Input", "(((garbage"],
    ["a Signature-Input that is not ASCII", `cs=(${COMPONENTS});${PARAMS};x="\u00e9"`],
    ["another label", `sig1=(${COMPONENTS});${PARAMS}`],
    ["the label repeated", `cs=(${COMPONENTS});${PARAMS}, cs=(${COMPONENTS});${PARAMS}`],
    ["an item instead of an inner list", `cs="@method";${PARAMS}`],
    ["a missing created", `cs=(${COMPONENTS});${PARAMS.replace(`created=${NOW};`, "")}`],
    ["a missing nonce", `cs=(${COMPONENTS});${PARAMS.replace(`nonce="${NONCE}";`, "")}`],
    ["a missing keyid", `cs=(${COMPONENTS});${PARAMS.replace('keyid="agt_test_1";', "")}`],
    ["a missing alg", `cs=(${COMPONENTS});${PARAMS.replace('alg="ed25519";', "")}`],
    ["a missing tag", `cs=(${COMPONENTS});${PARAMS.replace(';tag="countersign"', "")}`],
    ["an unknown parameter", `cs=(${COMPONENTS});${PARAMS};foo=1`],
    ["a repeated parameter", `cs=(${COMPONENTS});${PARAMS};created=${NOW}`],
    ["a duplicate component", `cs=("@method" ${COMPONENTS});${PARAMS}`],
    ["a component parameter ;req", `cs=(${COMPONENTS.replace('"@method"', '"@method";req')});${PARAMS}`],
    ["a component parameter ;sf", `cs=(${COMPONENTS.replace('"content-digest"', '"content-digest";sf')});${PARAMS}`],
    [
      "a component parameter ;key",
      `cs=(${COMPONENTS.replace('"content-digest"', '"content-digest";key="sha-256"')});${PARAMS}`,
    ],
    ["a component parameter ;bs", `cs=(${COMPONENTS.replace('"idempotency-key"', '"idempotency-key";bs')});${PARAMS}`],
    ["a token component", `cs=(${COMPONENTS.replace('"@path"', "path")});${PARAMS}`],
    ["an extra component", `cs=(${COMPONENTS} "content-type");${PARAMS}`],
    ["a missing @query", `cs=(${COMPONENTS.replace(' "@query"', "")});${PARAMS}`],
    ["content-digest not covered though present", `cs=(${COMPONENTS.replace(' "content-digest"', "")});${PARAMS}`],
    ["idempotency-key not covered though present", `cs=(${COMPONENTS.replace(' "idempotency-key"', "")});${PARAMS}`],
    ["idempotency-key covered though absent", `cs=(${COMPONENTS});${PARAMS}`, { "idempotency-key": undefined }],
    ["content-digest covered though absent", `cs=(${COMPONENTS});${PARAMS}`, { "content-digest": undefined }],
    ["a wrong alg", `cs=(${COMPONENTS});${PARAMS.replace('alg="ed25519"', 'alg="rsa-pss-sha512"')}`],
    ["alg as a token", `cs=(${COMPONENTS});${PARAMS.replace('alg="ed25519"', "alg=ed25519")}`],
    ["a wrong tag", `cs=(${COMPONENTS});${PARAMS.replace('tag="countersign"', 'tag="web-bot-auth"')}`],
    ["a short nonce", `cs=(${COMPONENTS});${PARAMS.replace(NONCE, "AAECAwQFBgcICQoLDA0O")}`],
    ["a nonce that is not base64url", `cs=(${COMPONENTS});${PARAMS.replace(NONCE, "AAECAwQFBgcICQoLDA0OD+")}`],
    ["a nonce as a byte sequence", `cs=(${COMPONENTS});${PARAMS.replace(`"${NONCE}"`, ":AAECAwQFBgcICQoLDA0ODw==:")}`],
    ["a decimal created", `cs=(${COMPONENTS});${PARAMS.replace(`created=${NOW}`, `created=${NOW}.5`)}`],
    ["a string created", `cs=(${COMPONENTS});${PARAMS.replace(`created=${NOW}`, `created="${NOW}"`)}`],
    ["a negative created", `cs=(${COMPONENTS});${PARAMS.replace(`created=${NOW}`, "created=-1")}`],
    ["expires equal to created", `cs=(${COMPONENTS});${PARAMS};expires=${NOW}`],
    ["an empty keyid", `cs=(${COMPONENTS});${PARAMS.replace('keyid="agt_test_1"', 'keyid=""')}`],
  ];
  for (const [label, input, extra] of cases) {
    it(`answers invalid_signature for ${label}`, () => {
      assert.deepEqual(withInput(input, extra), { ok: false, code: "invalid_signature" });
    });
  }

  // Built lazily: the valid signature exists only once before() has run.
  const signatureCases: Array<[label: string, value: (valid: string) => string]> = [
    ["garbage in Signature", () => ":::"],
    ["a 63-byte signature", () => `cs=:${toBase64(new Uint8Array(63))}:`],
    ["a 65-byte signature", () => `cs=:${toBase64(new Uint8Array(65))}:`],
    ["a signature under another label", (valid) => valid.replace(/^cs=/, "sig=")],
    ["an unpadded signature", (valid) => valid.replace("==:", ":")],
    ["a signature with parameters", (valid) => `${valid};alg="ed25519"`],
    ["a signature as a string", (valid) => `cs="${valid.slice(4, -1)}"`],
  ];
  for (const [label, value] of signatureCases) {
    it(`answers invalid_signature for ${label}`, () => {
      assert.deepEqual(parseRequestSignature({ ...headers, signature: value(signature) }), {
        ok: false,
        code: "invalid_signature",
      });
    });
  }

  it("never throws on arbitrary field values", () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ unit: "binary" }), { nil: undefined }),
        fc.option(fc.string({ unit: "binary" }), { nil: undefined }),
        (signatureInput, signatureValue) => {
          const result = parseRequestSignature({
            ...headers,
            "signature-input": signatureInput,
            signature: signatureValue,
          });
          assert.equal(result.ok, false);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("never throws on a malformed headers object", () => {
    for (const value of [null, undefined, 42, "x", { "signature-input": 1, signature: ["a"] }]) {
      const result = parseRequestSignature(value as unknown as Record<string, string>);
      assert.equal(result.ok, false);
    }
  });
});
