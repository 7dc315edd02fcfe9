import assert from "node:assert/strict";
import { before, it } from "node:test";
import {
  createContentDigest,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  toBase64Url,
  utf8,
} from "@countersign/protocol";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { agentKeyId } from "./agent-key-id.ts";
import { sweepAgentRecords } from "./sweep-agent-records.ts";
import { type AgentTestKit, createAgentTestKit } from "./test-support/agent-test-kit.ts";

describeEachDatabase("agent enrolment", (ctx) => {
  let kit: AgentTestKit;
  let person: Awaited<ReturnType<AgentTestKit["newPerson"]>>;

  before(async () => {
    kit = await createAgentTestKit(ctx.db);
    person = await kit.newPerson();
  });

  const newAgent = () => kit.createAgent(person.cookie, { name: "Enrollee", allowed_actions: ["deploy.*"] });

  it("enrols the key that signed the request and answers agent id, key id and API base URL", async () => {
    const { id, code } = await newAgent();
    const key = await kit.newKey();
    const res = await kit.enroll(key, code);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {
      agent_id: id,
      key_id: key.keyId,
      api_base_url: kit.config.apiBaseUrl,
      auth_mode: "signed",
      credentials_version: 1,
      // A plaintext agent: no account key set to pin (DESIGN §4.11).
      e2e: null,
    });
    const { rows } = await ctx.db.query<{ public_key: Uint8Array; credentials_version: number }>(
      "SELECT public_key, credentials_version FROM agent_keys WHERE key_id = $1",
      [key.keyId],
    );
    assert.equal(toBase64Url(rows[0]?.public_key ?? new Uint8Array()), key.publicKey);
    const listed = await kit.call("GET", `/v1/agents/${id}`, { cookie: person.cookie });
    assert.equal((listed.body.agent as { enrolled: boolean }).enrolled, true);
    const event = kit.audit.find((e) => e.type === "agent.enrolled" && e.subject?.id === id);
    assert.deepEqual(event?.actor, { kind: "agent", id });
    assert.equal(event?.context?.key_id, key.keyId);
    assert.equal(event?.context?.auth_mode, "signed");

    const whoami = await kit.send(await kit.signed(key));
    assert.equal(whoami.status, 200);
    assert.equal(whoami.body.agent_id, id);
  });

  it("uses the RFC 7638 thumbprint as key id (RFC 8037 Appendix A.3)", () => {
    const x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const raw = Uint8Array.from(Buffer.from(x, "base64url"));
    assert.equal(agentKeyId(raw), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  });

  it("refuses a request not signed by the key in the body, and keeps the code", async () => {
    const { code } = await newAgent();
    const key = await kit.newKey();
    const other = await kit.newKey();
    assert.equal((await kit.enroll(key, code, { keyId: other.keyId })).code, "invalid_signature");
    // Signed by another key under the claimed key's id.
    const forged = await kit.signed(other, {
      method: "POST",
      url: "/v1/agents/enroll",
      body: { code, public_key: key.publicKey },
      keyId: key.keyId,
    });
    assert.equal((await kit.send(forged)).code, "invalid_signature");
    const payload = utf8(JSON.stringify({ code, public_key: key.publicKey }));
    const unsigned = await kit.send({
      method: "POST",
      url: "/v1/agents/enroll",
      headers: {
        host: "localhost:8787",
        "content-type": "application/json",
        "content-digest": await createContentDigest(payload),
      },
      payload: Buffer.from(payload),
    });
    assert.equal(unsigned.code, "signature_missing");
    assert.equal((await kit.enroll(key, code)).status, 200, "none of the refusals spent the code");
  });

  it("refuses a replayed, stale or misdirected enrolment", async () => {
    const { code } = await newAgent();
    const key = await kit.newKey();
    const captured = await kit.signed(key, {
      method: "POST",
      url: "/v1/agents/enroll",
      body: { code, public_key: key.publicKey },
    });
    const stale = await kit.signed(key, {
      method: "POST",
      url: "/v1/agents/enroll",
      body: { code, public_key: key.publicKey },
      created: Math.floor(kit.clock.now() / 1000) - 301,
    });
    assert.equal((await kit.send(stale)).code, "signature_expired");
    assert.equal(
      (await kit.send({ ...captured, headers: { ...captured.headers, host: "api.evil.example" } })).code,
      "misdirected_request",
    );
    assert.equal((await kit.send(captured)).status, 200);
    assert.equal((await kit.send(captured)).code, "nonce_replay");
  });

  it("accepts a code once, and never after ten minutes, a rotation or a revocation", async () => {
    const first = await newAgent();
    assert.equal((await kit.enroll(await kit.newKey(), first.code)).status, 200);
    assert.equal((await kit.enroll(await kit.newKey(), first.code)).code, "enrollment_code_invalid");

    const late = await newAgent();
    kit.clock.advance(600_000);
    assert.equal((await kit.enroll(await kit.newKey(), late.code)).code, "enrollment_code_invalid");
    person = await kit.newPerson(); // the step-up of the first sign-in is stale by now

    const rotated = await newAgent();
    const rotation = await kit.call("POST", `/v1/agents/${rotated.id}/rotate`, { cookie: person.cookie });
    assert.equal((await kit.enroll(await kit.newKey(), rotated.code)).code, "enrollment_code_invalid");
    const fresh = (rotation.body.credential as { code: string }).code;
    const res = await kit.enroll(await kit.newKey(), fresh);
    assert.equal(res.body.credentials_version, 2);

    const revoked = await newAgent();
    await kit.call("POST", `/v1/agents/${revoked.id}/revoke`, { cookie: person.cookie });
    assert.equal((await kit.enroll(await kit.newKey(), revoked.code)).code, "enrollment_code_invalid");

    for (const code of ["", "cs_enr_short", `cs_enr_${"A".repeat(32)}`]) {
      assert.equal((await kit.enroll(await kit.newKey(), code)).status >= 400, true, code);
    }
  });

  it("lets exactly one of many concurrent enrolments with one code win", async () => {
    const { id, code } = await newAgent();
    const keys = await Promise.all(Array.from({ length: 8 }, () => kit.newKey()));
    const results = await Promise.all(keys.map((key) => kit.enroll(key, code)));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.code === "enrollment_code_invalid"));
    const { rows } = await ctx.db.query("SELECT key_id FROM agent_keys WHERE agent_id = $1", [id]);
    assert.equal(rows.length, 1);
  });

  it("refuses a public key enrolled before, without spending the code", async () => {
    const a = await newAgent();
    const key = await kit.newKey();
    assert.equal((await kit.enroll(key, a.code)).status, 200);
    const b = await newAgent();
    const reused = await kit.enroll(key, b.code);
    assert.deepEqual([reused.status, reused.code], [409, "agent_key_in_use"]);
    assert.equal((await kit.enroll(await kit.newKey(), b.code)).status, 200);
  });

  it("sweeps expired enrolment codes and nothing else", async () => {
    const live = await newAgent();
    const { rows: before } = await ctx.db.query("SELECT agent_id FROM agent_enrollment_codes WHERE agent_id = $1", [
      live.id,
    ]);
    assert.equal(before.length, 1);
    await sweepAgentRecords(ctx.db, kit.clock.now() + 599_000);
    assert.equal(
      (await ctx.db.query("SELECT 1 FROM agent_enrollment_codes WHERE agent_id = $1", [live.id])).rowCount,
      1,
    );
    await sweepAgentRecords(ctx.db, kit.clock.now() + 600_000);
    assert.equal(
      (await ctx.db.query("SELECT 1 FROM agent_enrollment_codes WHERE agent_id = $1", [live.id])).rowCount,
      0,
    );
  });

  it("refuses a public key that is not 32 canonical base64url bytes", async () => {
    const { code } = await newAgent();
    const key = await kit.newKey();
    const raw = await exportEd25519PublicKey((await generateEd25519KeyPair()).publicKey);
    for (const publicKey of [toBase64Url(raw).slice(0, 42), `${toBase64Url(raw).slice(0, 42)}_`, "A".repeat(44)]) {
      const res = await kit.send(
        await kit.signed(key, { method: "POST", url: "/v1/agents/enroll", body: { code, public_key: publicKey } }),
      );
      assert.equal(res.code, "validation_failed", publicKey);
    }
  });
});
