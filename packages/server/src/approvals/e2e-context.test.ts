import assert from "node:assert/strict";
import { before, it } from "node:test";
import {
  accountKeyFingerprint,
  displayPayloadHash,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  RECEIPT_TYPE,
  randomBytes,
  toBase64Url,
} from "@countersign/protocol";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { agentKeyId } from "../agents/agent-key-id.ts";
import { decodeAuditEntry } from "../audit/audit-entry.ts";
import { openAuditContext } from "../audit/open-audit-context.ts";
import type { Queryable } from "../db/database.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "./test-support/approval-test-kit.ts";

// Issue 9 part 4: an agent created with e2e gets the account public key and its fingerprint at
// enrolment, encrypts its context to it, and the server stores only the ciphertext. The app
// decrypts, renders and hashes; the decision's hash becomes the receipt's dph, which the agent
// compares with its own. Read the database and the logs: no plaintext context anywhere.

/** Every row of every table, each value as text, bytea also decoded as UTF-8 (audit entries are bytea). */
async function dumpEveryTable(q: Queryable): Promise<string> {
  const { rows: tables } = await q.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  assert.ok(tables.length > 20, "the dump reads the whole schema");
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await q.query<Record<string, unknown>>(`SELECT * FROM "${table_name}"`);
    for (const row of rows) {
      for (const value of Object.values(row)) {
        if (value instanceof Uint8Array) {
          parts.push(Buffer.from(value).toString("utf8"), Buffer.from(value).toString("latin1"));
        } else {
          parts.push(typeof value === "string" ? value : JSON.stringify(value));
        }
      }
    }
  }
  return parts.join("\n");
}

/** The marker and its base64/base64url spellings at each alignment, as a dump could hold it. */
function spellings(marker: string): string[] {
  const found = [marker];
  for (const pad of ["", "x", "xx"]) {
    const bytes = Buffer.from(pad + marker);
    // Characters that mix the padding's bits with the marker's are left out, and the last few.
    const skip = Math.ceil((pad.length * 8) / 6);
    for (const encoding of ["base64", "base64url"] as const) {
      found.push(bytes.toString(encoding).slice(skip, -4));
    }
  }
  return found;
}

describeEachDatabase("end-to-end encrypted context", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  const logs: string[] = [];

  before(async () => {
    kit = await createApprovalTestKit(ctx.db, {
      env: { COUNTERSIGN_BEARER_ONLY_ALLOWED: "true" },
      logStream: { write: (line) => logs.push(line) },
    });
    alice = await kit.newPerson("alice-e2e@example.com");
  });

  async function createAgent(person: TestPerson, body: Record<string, unknown> = {}) {
    await kit.accounts.stepUp(person.cookie, person.authenticator);
    return kit.personCall(person, "POST", "/v1/agents", {
      name: "Private bot",
      allowed_actions: ["deploy.*", "db.migrate"],
      ...body,
    });
  }

  it("refuses e2e at creation while the account has no key set, and for a bearer agent", async () => {
    const bob = await kit.newPerson();
    const refused = await createAgent(bob, { e2e: true });
    assert.equal(refused.status, 409);
    assert.equal(refused.code, "account_key_missing");
    // The pin reaches an agent with its enrolment, which a bearer agent never does.
    const bearer = await createAgent(alice, { e2e: true, auth_mode: "bearer_only", ip_allowlist: ["203.0.113.7"] });
    assert.equal(bearer.status, 400);
    assert.equal(bearer.code, "validation_failed");
  });

  it("pins the active key set: the creation answer, views and the enrolment carry it with its fingerprint", async () => {
    const key = await kit.giveAccountKey(alice);
    const created = await createAgent(alice, { e2e: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const pin = {
      account_key_id: key.id,
      public_key: toBase64Url(key.keys.publicKey),
      fingerprint: accountKeyFingerprint(key.keys.publicKey),
    };
    assert.deepEqual(created.body.agent.e2e, pin);
    assert.match(pin.fingerprint, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/);

    const shown = await kit.personCall(alice, "GET", `/v1/agents/${created.body.agent.id}`);
    assert.deepEqual(shown.body.agent.e2e, pin);
    const listed = await kit.personCall(alice, "GET", "/v1/agents");
    const plain = await kit.newAgent(alice, { name: "Plain bot" });
    const again = await kit.personCall(alice, "GET", "/v1/agents");
    assert.ok(listed.body.agents.some((a: { e2e: unknown }) => JSON.stringify(a.e2e) === JSON.stringify(pin)));
    assert.equal(again.body.agents.find((a: { id: string }) => a.id === plain.id).e2e, null);

    const agent = await kit.newAgent(alice, { e2e: true });
    assert.deepEqual(agent.e2e, pin, "the enrolment answer hands the agent the key and fingerprint to pin");
    assert.equal(plain.e2e, null);
  });

  it("runs the whole flow: the server holds only ciphertext, the app decrypts and hashes, the receipt's dph is the agent's", async () => {
    await kit.giveAccountKey(alice);
    const agent = await kit.newAgent(alice, { name: "Flow bot 0fd1-control", e2e: true });
    const marker = `plaintext-marker-${toBase64Url(randomBytes(12))}`;
    const context = { commit: "a1b2c3", secret: marker, nested: { note: `${marker}-nested` } };
    const body = await kit.sealBody(agent, { ...ASK, context, binding_message: "blue-fox" });
    assert.ok(!JSON.stringify(body).includes(marker));

    const asked = await kit.ask(agent, body);
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    assert.equal(asked.body.display_payload_hash, null, "the server cannot hash what it cannot read");
    const shownToAgent = asked.body.display_payload;
    assert.equal(shownToAgent.context, undefined);
    assert.equal(shownToAgent.title, ASK.title);
    assert.equal(shownToAgent.binding_message, "blue-fox");
    // What the SDK does: hash the answer's display payload with its own plaintext context.
    const localDph = await displayPayloadHash({ ...shownToAgent, context });

    // The same request again (in-flight suppression) answers the same display payload.
    const suppressed = await kit.ask(agent, body);
    assert.equal(suppressed.status, 200);
    assert.deepEqual(suppressed.body.display_payload, shownToAgent);

    const view = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.body.id}`);
    assert.equal(view.status, 200);
    const approval = view.body.approval;
    assert.equal(approval.e2e, true);
    assert.equal(approval.display_payload.context, null);
    assert.equal(approval.display_payload_hash, null);
    assert.deepEqual(approval.context_e2e, body.context_e2e, "exactly the ciphertext the agent sent");
    assert.ok(!JSON.stringify(view.body).includes(marker));
    const list = await kit.personCall(alice, "GET", "/v1/me/approvals");
    assert.equal(list.body.approvals.find((a: { id: string }) => a.id === asked.body.id).e2e, true);

    // The app decrypts with the account private key and hashes what it renders.
    const rendered = await kit.openForPerson(alice, approval);
    assert.deepEqual(rendered.context, context);
    assert.equal(await displayPayloadHash(rendered), localDph);

    // Bind the deciding session to a device: the decision's audit event names it.
    const deviceId = `dev_${toBase64Url(randomBytes(16))}`;
    await ctx.db.query(
      `INSERT INTO devices (id, user_id, name, platform, signing_public_key, created_at, last_seen_at)
       VALUES ($1, $2, 'v1.name', 'v1.platform', $3, $4, $4)`,
      [deviceId, alice.userId, randomBytes(91), new Date(kit.clock.now())],
    );
    await ctx.db.query("UPDATE sessions SET device_id = $1 WHERE user_id = $2", [deviceId, alice.userId]);

    const { res, body: decision } = await kit.decide(alice, asked.body.id);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(decision.display_payload_hash, localDph);
    assert.equal(res.body.status, "approved");
    assert.equal(res.body.display_payload_hash, localDph, "the decision wrote the hash the passkey signed");

    kit.clock.advance(10_000);
    const polled = await kit.agentCall(agent, "GET", `/v1/approvals/${asked.body.id}`);
    assert.equal(polled.body.status, "approved");
    assert.equal(polled.body.display_payload_hash, localDph);
    assert.equal(polled.body.display_payload, undefined, "only the answer to creation carries it");
    const jwks = await kit.send({
      method: "GET",
      url: "/.well-known/jwks.json",
      headers: { host: kit.config.apiHost },
    });
    const { payload } = await jwtVerify(polled.body.receipt, createLocalJWKSet(jwks.body), {
      issuer: kit.config.publicUrl,
      audience: agent.id,
      typ: RECEIPT_TYPE,
      algorithms: ["EdDSA"],
      currentDate: new Date(kit.clock.now()),
    });
    assert.equal(payload.dph, localDph, "the receipt's dph is the hash the agent computed");

    const evidence = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.body.id}/evidence`);
    assert.equal(evidence.body.display_payload_hash, localDph);

    const { rows } = await ctx.db.query<{ entry: Uint8Array }>(
      "SELECT entry FROM audit_log WHERE subject_id = $1 AND event_type = 'approval.approved'",
      [asked.body.id],
    );
    assert.equal(rows.length, 1);
    const entry = decodeAuditEntry(rows[0]?.entry as Uint8Array);
    assert.equal((entry.details as Record<string, unknown>).display_payload_hash, localDph);
    const opened = await openAuditContext(ctx.db, kit.services.userDataKeys, entry);
    assert.equal(opened.state, "open");
    assert.ok(opened.state === "open");
    assert.equal(opened.context.device_id, deviceId);
    await ctx.db.query("UPDATE sessions SET device_id = NULL WHERE user_id = $1", [alice.userId]);

    // A plaintext context sent to an e2e agent by mistake is refused, and kept nowhere either.
    const mistaken = await kit.ask(agent, { ...ASK, action_type: "deploy.mistake", context: { secret: marker } });
    assert.equal(mistaken.code, "e2e_context_required");

    // No plaintext context in any table, nor in the logs; the control string (the agent's name,
    // a plaintext column) shows that the dump does read what is there.
    const dump = await dumpEveryTable(ctx.db);
    assert.ok(dump.includes("Flow bot 0fd1-control"));
    for (const spelling of spellings(marker)) assert.ok(!dump.includes(spelling), `the dump holds ${spelling}`);
    const logText = logs.join("");
    assert.ok(logText.includes(asked.body.id), "the logs were captured");
    for (const spelling of spellings(marker)) assert.ok(!logText.includes(spelling), `the logs hold ${spelling}`);
  });

  it("refuses plaintext context from an e2e agent, and ciphertext from any other agent", async () => {
    await kit.giveAccountKey(alice);
    const agent = await kit.newAgent(alice, { e2e: true });
    const plaintext = await kit.ask(agent, { ...ASK, action_type: "deploy.a" });
    assert.equal(plaintext.status, 422);
    assert.equal(plaintext.code, "e2e_context_required");
    const { context: _context, ...withoutContext } = ASK;
    const none = await kit.ask(agent, { ...withoutContext, action_type: "deploy.b" });
    assert.equal(none.code, "e2e_context_required", "an e2e request always carries context_e2e");
    const both = { ...(await kit.sealBody(agent, { ...ASK, action_type: "deploy.c" })), context: { a: 1 } };
    assert.equal((await kit.ask(agent, both)).code, "e2e_context_required");

    const plain = await kit.newAgent(alice);
    const sealed = await kit.sealBody(plain, { ...ASK, action_type: "deploy.d" }, agent.e2e ?? undefined);
    const refused = await kit.ask(plain, sealed);
    assert.equal(refused.status, 422);
    assert.equal(refused.code, "e2e_not_enabled");
    // Unchanged for plaintext agents: a hash at creation and no display payload in the answer.
    const asked = await kit.ask(plain, { ...ASK, action_type: "deploy.e" });
    assert.equal(asked.status, 201);
    assert.match(asked.body.display_payload_hash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(asked.body.display_payload, undefined);
  });

  it("lets a device that cannot decrypt reject only, over the payload with a null context, which the server checks", async () => {
    await kit.giveAccountKey(alice);
    const agent = await kit.newAgent(alice, { e2e: true });
    const asked = await kit.ask(agent, await kit.sealBody(agent, { ...ASK, action_type: "deploy.locked" }));
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const approving = await kit.decide(alice, asked.body.id, { contextUnread: true });
    assert.equal(approving.res.status, 400);
    assert.equal(approving.res.code, "validation_failed");
    const wrongHash = await kit.decide(alice, asked.body.id, {
      decision: "reject",
      contextUnread: true,
      displayPayloadHash: `sha256:${"2".repeat(64)}`,
    });
    assert.equal(wrongHash.res.code, "display_hash_mismatch");

    const { res, body } = await kit.decide(alice, asked.body.id, { decision: "reject", contextUnread: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, "rejected");
    const shown = { ...asked.body.display_payload, context: null };
    assert.equal(body.display_payload_hash, await displayPayloadHash(shown as never));
    const evidence = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.body.id}/evidence`);
    assert.equal(evidence.body.context_unread, true);
    assert.equal(evidence.body.display_payload_hash, body.display_payload_hash);

    const plain = await kit.newAgent(alice);
    const plainAsked = await kit.ask(plain, { ...ASK, action_type: "deploy.plainlocked" });
    const refused = await kit.decide(alice, plainAsked.body.id, { decision: "reject", contextUnread: true });
    assert.equal(refused.res.code, "validation_failed", "only end-to-end requests can be unread");
  });

  it("checks the shape and size of context_e2e", async () => {
    await kit.giveAccountKey(alice);
    const agent = await kit.newAgent(alice, { e2e: true });
    const sealed = (await kit.sealBody(agent, { ...ASK, action_type: "deploy.f" })) as {
      context_e2e: Record<string, unknown>;
    };
    const variants: Record<string, unknown>[] = [
      { ...sealed.context_e2e, v: 2 },
      { ...sealed.context_e2e, ct: "A".repeat(22_001) },
      { ...sealed.context_e2e, enc: "short" },
      { ...sealed.context_e2e, ct: "not base64!" },
      { ...sealed.context_e2e, extra: 1 },
      { ...sealed.context_e2e, kid: "someone" },
    ];
    for (const variant of variants) {
      const res = await kit.ask(agent, { ...sealed, context_e2e: variant });
      assert.equal(res.status, 400, JSON.stringify(variant).slice(0, 80));
      assert.equal(res.code, "validation_failed");
    }
    const atLimit = await kit.ask(agent, { ...sealed, context_e2e: { ...sealed.context_e2e, ct: "A".repeat(22_000) } });
    assert.equal(atLimit.status, 201, "the server cannot check the ciphertext, only its size");
  });

  it("refuses a kid that is not the pinned key, or a pinned key no longer active, with account_key_changed; a rotation re-pins", async () => {
    const first = await kit.giveAccountKey(alice);
    const agent = await kit.newAgent(alice, { e2e: true });
    assert.equal(agent.e2e?.account_key_id, first.id);

    const otherKid = {
      ...(agent.e2e as NonNullable<TestAgent["e2e"]>),
      account_key_id: `ak_${toBase64Url(randomBytes(16))}`,
    };
    const mismatch = await kit.ask(agent, await kit.sealBody(agent, { ...ASK, action_type: "deploy.g" }, otherKid));
    assert.equal(mismatch.status, 409);
    assert.equal(mismatch.code, "account_key_changed");

    // A key reset retires the pinned set: the agent's requests are refused until it is re-pinned.
    const second = await kit.giveAccountKey(alice);
    const retired = await kit.ask(agent, await kit.sealBody(agent, { ...ASK, action_type: "deploy.h" }));
    assert.equal(retired.status, 409);
    assert.equal(retired.code, "account_key_changed");
    // Nor may it simply name the new key: it is pinned to the old one.
    const newPin = {
      account_key_id: second.id,
      public_key: toBase64Url(second.keys.publicKey),
      fingerprint: second.fingerprint,
    };
    const renamed = await kit.ask(agent, await kit.sealBody(agent, { ...ASK, action_type: "deploy.i" }, newPin));
    assert.equal(renamed.code, "account_key_changed");

    // An agent created before the reset but not yet enrolled cannot enrol to the retired key.
    const third = await kit.giveAccountKey(alice);
    await kit.accounts.stepUp(alice.cookie, alice.authenticator);
    const rotated = await kit.personCall(alice, "POST", `/v1/agents/${agent.id}/rotate`);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.agent.e2e.account_key_id, third.id, "rotating re-pins to the active key set");
    assert.equal(rotated.body.agent.e2e.fingerprint, third.fingerprint);
    const stale = await createAgent(alice, { e2e: true });
    await kit.giveAccountKey(alice);
    const keys = await generateEd25519KeyPair();
    const raw = await exportEd25519PublicKey(keys.publicKey);
    const enrolling = { id: stale.body.agent.id as string, keys, keyId: agentKeyId(raw), e2e: null };
    const enrolled = await kit.agentCall(enrolling, "POST", "/v1/agents/enroll", {
      code: stale.body.credential.code,
      public_key: toBase64Url(raw),
    });
    assert.equal(enrolled.status, 409);
    assert.equal(enrolled.code, "account_key_changed");
  });
});
