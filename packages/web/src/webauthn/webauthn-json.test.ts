import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toBase64Url } from "@countersign/protocol";
import { creationOptions, requestOptions } from "./webauthn-json.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const view = (buffer: BufferSource | undefined) => new Uint8Array(buffer as ArrayBuffer);

describe("WebAuthn options from the server's JSON", () => {
  it("decodes the challenge and the allowed credentials of request options", () => {
    const options = requestOptions({
      challenge: toBase64Url(bytes(1, 2, 3)),
      rpId: "localhost",
      userVerification: "required",
      allowCredentials: [{ id: toBase64Url(bytes(9, 8)), type: "public-key", transports: ["internal"] }],
    });
    assert.deepEqual(view(options.challenge), bytes(1, 2, 3));
    assert.equal(options.rpId, "localhost");
    assert.equal(options.userVerification, "required");
    assert.deepEqual(view(options.allowCredentials?.[0]?.id), bytes(9, 8));
    assert.deepEqual(options.allowCredentials?.[0]?.transports, ["internal"]);
  });

  it("decodes the challenge, the user id and the excluded credentials of creation options", () => {
    const options = creationOptions({
      challenge: toBase64Url(bytes(7)),
      rp: { id: "localhost", name: "Countersign" },
      user: { id: toBase64Url(bytes(5, 5)), name: "ada@example.com", displayName: "ada@example.com" },
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
      excludeCredentials: [{ id: toBase64Url(bytes(4)), type: "public-key" }],
    });
    assert.deepEqual(view(options.challenge), bytes(7));
    assert.deepEqual(view(options.user.id), bytes(5, 5));
    assert.equal(options.user.name, "ada@example.com");
    assert.deepEqual(view(options.excludeCredentials?.[0]?.id), bytes(4));
    assert.equal(options.rp.id, "localhost");
  });

  it("refuses a challenge that is not base64url", () => {
    assert.throws(() => requestOptions({ challenge: "not base64url!" }), { name: "DataError" });
  });
});
