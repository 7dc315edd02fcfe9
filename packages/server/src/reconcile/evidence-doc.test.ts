import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { decisionChallenge, toBase64Url } from "@countersign/protocol";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { DecisionEvidence } from "../approvals/approval-row.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestPerson,
} from "../approvals/test-support/approval-test-kit.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const GUIDE = join(REPO, "docs/evidence.md");
const MARKER = "<!-- example: verify-evidence -->";

/** The script exactly as docs/evidence.md shows it. */
function verifierScript(): string {
  const guide = readFileSync(GUIDE, "utf8");
  const start = guide.indexOf(MARKER);
  assert.notEqual(start, -1, "the guide has the script");
  const match = /```js\n([\s\S]*?)```/.exec(guide.slice(start));
  assert.ok(match?.[1]);
  return match[1];
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest();
const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

/** A minimal CBOR encoder (RFC 8949) for COSE keys, independent of the script's decoder. */
function cbor(value: number | Uint8Array | Map<number, number | Uint8Array>): Buffer {
  const head = (major: number, n: number) =>
    n < 24
      ? Buffer.from([(major << 5) | n])
      : n < 256
        ? Buffer.from([(major << 5) | 24, n])
        : Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/**
 * Evidence for a decision signed by a key made here (EdDSA or RS256, which the kit's software
 * passkey does not use), built the way a browser and authenticator would.
 */
async function craftedEvidence(
  alg: "EdDSA" | "RS256",
  options: { userVerified?: boolean } = {},
): Promise<DecisionEvidence> {
  let privateKey: KeyObject;
  let cose: Map<number, number | Uint8Array>;
  if (alg === "EdDSA") {
    const pair = generateKeyPairSync("ed25519");
    privateKey = pair.privateKey;
    const x = Buffer.from(pair.publicKey.export({ format: "jwk" }).x as string, "base64url");
    cose = new Map<number, number | Uint8Array>([
      [1, 1],
      [3, -8],
      [-1, 6],
      [-2, x],
    ]);
  } else {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    privateKey = pair.privateKey;
    const jwk = pair.publicKey.export({ format: "jwk" });
    cose = new Map<number, number | Uint8Array>([
      [1, 3],
      [3, -257],
      [-1, Buffer.from(jwk.n as string, "base64url")],
      [-2, Buffer.from(jwk.e as string, "base64url")],
    ]);
  }
  const fields = {
    request_id: "apr_0123456789abcdefghijkl",
    decision: "approve" as const,
    display_payload_hash: `sha256:${"cd".repeat(32)}`,
    nonce: "bm9uY2Utbm9uY2Utbm9uY2U",
  };
  const challenge = toBase64Url(
    await decisionChallenge({
      requestId: fields.request_id,
      decision: fields.decision,
      displayPayloadHash: fields.display_payload_hash,
      nonce: fields.nonce,
    }),
  );
  const origin = "https://countersign.example.com";
  const rpId = "countersign.example.com";
  const clientDataJSON = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge, origin, crossOrigin: false }));
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(7);
  const flags = options.userVerified === false ? 0x01 : 0x05;
  const authenticatorData = Buffer.concat([sha256(rpId), Buffer.from([flags]), counter]);
  const signed = Buffer.concat([authenticatorData, sha256(clientDataJSON)]);
  const signature = alg === "EdDSA" ? sign(null, signed, privateKey) : sign("sha256", signed, privateKey);
  return {
    v: 1,
    ...fields,
    challenge,
    rp_id: rpId,
    origin,
    credential_id: b64u(new Uint8Array(16).fill(7)),
    public_key_cose: b64u(cbor(cose)),
    sign_count: 7,
    assertion: {
      authenticator_data: b64u(authenticatorData),
      client_data_json: b64u(clientDataJSON),
      signature: b64u(signature),
      user_handle: null,
    },
    decided_at: "2026-11-21T12:03:04.512Z",
  };
}

describeEachDatabase("docs/evidence.md's verifier", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let dir: string;
  let script: string;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    alice = await kit.newPerson();
    dir = mkdtempSync(join(tmpdir(), "cs-evidence-doc-"));
    script = join(dir, "verify-evidence.mjs");
    writeFileSync(script, verifierScript());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the script on `evidence` with the extra arguments; its exit code and output. */
  async function verifyEvidence(evidence: unknown, ...args: string[]): Promise<{ code: number; out: string }> {
    const file = join(dir, `evidence-${crypto.randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(evidence, null, 2));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script, file, ...args], {
        env: { PATH: process.env.PATH ?? "" },
        timeout: 30_000,
      });
      return { code: 0, out: stdout.trim() };
    } catch (error) {
      const failed = error as { code?: unknown; stdout?: string };
      assert.equal(typeof failed.code, "number", String(error));
      return { code: failed.code as number, out: (failed.stdout ?? "").trim() };
    }
  }

  /** A real decision by the kit's software passkey (ES256), fetched from the person's evidence endpoint. */
  async function decidedEvidence(decision: "approve" | "reject", actionType: string): Promise<DecisionEvidence> {
    const agent = await kit.newAgent(alice);
    const asked = await kit.ask(agent, { ...ASK, action_type: actionType });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const { res } = await kit.decide(alice, asked.body.id, { decision });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const evidence = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.body.id}/evidence`);
    assert.equal(evidence.status, 200);
    return evidence.body as DecisionEvidence;
  }

  it("uses nothing but node:crypto and node:fs", () => {
    const imports = [...verifierScript().matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(imports.sort(), ["node:crypto", "node:fs"]);
  });

  it("reports a real approval valid, against the evidence's origin and against the one the auditor expects", async () => {
    const evidence = await decidedEvidence("approve", "deploy.production");
    const valid = await verifyEvidence(evidence);
    assert.equal(valid.code, 0, valid.out);
    assert.equal(
      valid.out,
      `valid: approve of ${evidence.request_id} (display ${evidence.display_payload_hash}), signed with user verification by passkey ${evidence.credential_id} for ${kit.config.webauthn.rpId}`,
    );
    const pinned = await verifyEvidence(evidence, kit.config.webauthn.origin, kit.config.webauthn.rpId);
    assert.equal(pinned.code, 0, pinned.out);
    const elsewhere = await verifyEvidence(evidence, "https://phish.example", "phish.example");
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.out, /clientData\.origin is .*, not https:\/\/phish\.example/);
    assert.match(elsewhere.out, /rpIdHash is not SHA-256\(phish\.example\)/);
  });

  it("reports invalid for a one-byte change to the signature", async () => {
    const evidence = await decidedEvidence("approve", "db.migrate");
    const signature = Buffer.from(evidence.assertion.signature, "base64url");
    // Inside the DER-encoded r value, so that the signature still parses and only the math fails.
    signature[10] = (signature[10] as number) ^ 0x01;
    const tampered = { ...evidence, assertion: { ...evidence.assertion, signature: b64u(signature) } };
    const result = await verifyEvidence(tampered);
    assert.equal(result.code, 1, result.out);
    assert.equal(result.out, "invalid: the signature does not verify with the passkey's public key");
  });

  it("reports invalid for a changed display_payload_hash, and for the other decision", async () => {
    const evidence = await decidedEvidence("approve", "deploy.staging");
    const otherDisplay = await verifyEvidence({ ...evidence, display_payload_hash: `sha256:${"0".repeat(64)}` });
    assert.equal(otherDisplay.code, 1, otherDisplay.out);
    assert.match(otherDisplay.out, /^invalid: the stored challenge is not SHA-256\(JCS/);
    assert.match(otherDisplay.out, /clientData\.challenge is not the challenge of this decision/);
    // Even with the stored challenge rewritten to match, the passkey signed the original.
    const rewritten = await verifyEvidence({
      ...evidence,
      decision: "reject",
      challenge: toBase64Url(
        await decisionChallenge({
          requestId: evidence.request_id,
          decision: "reject",
          displayPayloadHash: evidence.display_payload_hash,
          nonce: evidence.nonce,
        }),
      ),
    });
    assert.equal(rewritten.out, "invalid: clientData.challenge is not the challenge of this decision");
  });

  it("reports a real rejection valid", async () => {
    const evidence = await decidedEvidence("reject", "deploy.canary");
    const result = await verifyEvidence(evidence);
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /^valid: reject of apr_/);
  });

  it("verifies EdDSA and RS256 passkeys, and requires the UV flag", async () => {
    for (const alg of ["EdDSA", "RS256"] as const) {
      const result = await verifyEvidence(await craftedEvidence(alg));
      assert.equal(result.code, 0, `${alg}: ${result.out}`);
      const noUv = await verifyEvidence(await craftedEvidence(alg, { userVerified: false }));
      assert.equal(noUv.out, "invalid: the UV flag (user verified) is not set", alg);
    }
  });

  it("reports malformed evidence as invalid rather than crashing", async () => {
    const evidence = await craftedEvidence("EdDSA");
    const short = await verifyEvidence({
      ...evidence,
      assertion: { ...evidence.assertion, authenticator_data: "AAAA" },
    });
    assert.equal(short.code, 1);
    assert.match(short.out, /malformed evidence: authenticatorData is shorter than 37 bytes/);
    const unknownKey = await verifyEvidence({ ...evidence, public_key_cose: b64u(cbor(new Map([[1, 4]]))) });
    assert.match(unknownKey.out, /malformed evidence: unsupported COSE key \(kty 4, alg undefined\)/);
  });
});
