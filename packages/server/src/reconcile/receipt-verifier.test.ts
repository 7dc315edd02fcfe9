import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RECEIPT_TYPE, type ReceiptClaims } from "@countersign/protocol";
import { importJWK, type JWK, SignJWT } from "jose";
import { createReceiptSigner } from "../approvals/receipt-signer.ts";
import { generateSecretsDocument } from "../config/server-secrets.ts";
import { createReceiptVerifier, storedReceiptTimes } from "./receipt-verifier.ts";

const ISSUER = "https://countersign.example";
const CLAIMS: ReceiptClaims = {
  iss: ISSUER,
  sub: "usr_alice",
  aud: "agt_deploybot",
  jti: "apr_0123456789abcdefghijkl",
  iat: 1_763_726_584,
  exp: 1_763_727_484,
  act: "deploy.production",
  dph: `sha256:${"ab".repeat(32)}`,
  amr: ["hwk", "user"],
};

describe("createReceiptVerifier", () => {
  const [current, older] = [generateSecretsDocument().signingKeys[0], generateSecretsDocument().signingKeys[0]];
  assert.ok(current && older);
  const server = createReceiptSigner([current, older]);
  const verifier = createReceiptVerifier(server.jwks, ISSUER);

  /** Signs `payload` with the header and key given, bypassing the server's signer. */
  async function sign(payload: Record<string, unknown>, key: JWK, header: Record<string, unknown> = {}) {
    return new SignJWT(payload)
      .setProtectedHeader({ alg: "EdDSA", typ: RECEIPT_TYPE, kid: key.kid as string, ...header })
      .sign(await importJWK({ ...key, alg: "EdDSA" }, "EdDSA"));
  }

  it("accepts the server's receipts, long expired ones included, and returns their claims", async () => {
    const check = await verifier.verify(await server.sign(CLAIMS));
    assert.ok(check.ok);
    assert.deepEqual(check.claims, CLAIMS);
    assert.equal(check.kid, current.kid);
    // Signed by the older key, still listed in the JWKS.
    const old = await verifier.verify(await createReceiptSigner([older]).sign(CLAIMS));
    assert.ok(old.ok);
  });

  it("refuses another key, another key under the server's kid, and a one-byte change", async () => {
    const stranger = generateSecretsDocument().signingKeys[0] as JWK;
    assert.deepEqual(await verifier.verify(await sign({ ...CLAIMS }, stranger)), {
      ok: false,
      reason: `signed with a key the server does not have (kid ${stranger.kid})`,
    });
    assert.deepEqual(await verifier.verify(await sign({ ...CLAIMS }, { ...stranger, kid: current.kid })), {
      ok: false,
      reason: "the signature does not verify with the server's key",
    });
    const genuine = await server.sign(CLAIMS);
    const [header, payload, signature] = genuine.split(".") as [string, string, string];
    const bytes = Buffer.from(signature, "base64url");
    bytes[10] = (bytes[10] as number) ^ 1;
    const edited = await verifier.verify(`${header}.${payload}.${bytes.toString("base64url")}`);
    assert.deepEqual(edited, { ok: false, reason: "the signature does not verify with the server's key" });
  });

  it("refuses a JWT that is not a receipt: typ, iss, claims, alg", async () => {
    const key = current as JWK;
    const reasons = async (payload: Record<string, unknown>, header: Record<string, unknown> = {}) => {
      const check = await verifier.verify(await sign(payload, key, header));
      assert.ok(!check.ok);
      return check.reason;
    };
    assert.equal(await reasons({ ...CLAIMS }, { typ: "JWT" }), `typ is JWT, not ${RECEIPT_TYPE}`);
    assert.equal(await reasons({ ...CLAIMS }, { typ: undefined }), `typ is undefined, not ${RECEIPT_TYPE}`);
    assert.equal(
      await reasons({ ...CLAIMS, iss: "https://evil.example" }),
      `issued by https://evil.example, not ${ISSUER}`,
    );
    assert.equal(await reasons({ ...CLAIMS, aud: ["agt_deploybot"] }), "the aud claim is missing or not a string");
    assert.equal(await reasons({ ...CLAIMS, jti: undefined }), "the jti claim is missing or not a string");
    assert.equal(await reasons({ ...CLAIMS, exp: "soon" }), "the exp claim is missing or not an integer");
    assert.equal(await reasons({ ...CLAIMS, exp: CLAIMS.iat }), "exp is not after iat");
    assert.equal(await reasons({ ...CLAIMS, dph: "md5:00" }), "the dph claim is not sha256:<hex>");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: RECEIPT_TYPE })).toString("base64url")}.${Buffer.from(JSON.stringify(CLAIMS)).toString("base64url")}.`;
    assert.deepEqual(await verifier.verify(none), { ok: false, reason: "not signed with EdDSA" });
    assert.deepEqual(await verifier.verify("deploy please"), { ok: false, reason: "not a compact JWS" });
  });
});

describe("storedReceiptTimes", () => {
  it("reads iat and exp of a stored receipt, and nothing of garbage", async () => {
    const key = generateSecretsDocument().signingKeys;
    assert.deepEqual(storedReceiptTimes(await createReceiptSigner(key).sign(CLAIMS)), {
      iat: CLAIMS.iat,
      exp: CLAIMS.exp,
    });
    assert.equal(storedReceiptTimes("garbage"), undefined);
  });
});
