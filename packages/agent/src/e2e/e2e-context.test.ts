import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  accountKeyFingerprint,
  CountersignError,
  displayPayloadHash,
  isCountersignError,
  RECEIPT_TYPE,
  randomBytes,
  toBase64Url,
} from "@countersign/protocol";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { testDatabaseKinds } from "../../../server/test-support/test-database.ts";
import { EXIT } from "../cli/exit-codes.ts";
import { createAgentClient } from "../client/create-agent-client.ts";
import { enrollAgent } from "../client/enroll-agent.ts";
import { writeKeyFile } from "../key-file/write-key-file.ts";
import { verifyReceipt } from "../receipts/verify-receipt.ts";
import { type AgentTestWorld, createAgentTestWorld } from "../test-support/agent-test-world.ts";
import { runCliToEnd } from "../test-support/cli-harness.ts";
import { parseE2ePin } from "./e2e-pin.ts";

// Issue 9 part 4 from the agent's side: enrolment pins the account key and prints its
// fingerprint, the SDK seals context so the server holds only ciphertext, computes the display
// hash itself, and acts on no receipt whose dph is not that hash.
for (const kind of testDatabaseKinds()) {
  describe(`end-to-end context through the SDK and CLI [${kind}]`, () => {
    let world: AgentTestWorld;
    before(async () => {
      world = await createAgentTestWorld({ database: kind });
    });
    after(() => world.close());

    /** The person creates an e2e agent in the app: its enrolment code and the pin the app shows. */
    async function createE2eAgent(): Promise<{ code: string; shownPin: Record<string, string> }> {
      await world.kit.accounts.stepUp(world.person.cookie, world.person.authenticator);
      const created = await world.kit.personCall(world.person, "POST", "/v1/agents", {
        name: "Sealed bot",
        allowed_actions: ["deploy.*", "db.migrate"],
        e2e: true,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return { code: created.body.credential.code, shownPin: created.body.agent.e2e };
    }

    /** A person with an account key set, an e2e agent enrolled for them, and its pinned client. */
    async function pinnedClient() {
      await world.kit.giveAccountKey(world.person);
      const { code } = await createE2eAgent();
      const enrolled = await enrollAgent({ server: world.server, code, now: () => world.kit.clock.now() });
      return createAgentClient({
        server: world.server,
        privateKey: { ...enrolled.key },
        agentId: enrolled.agentId,
        e2e: enrolled.e2e as NonNullable<typeof enrolled.e2e>,
        now: () => world.kit.clock.now(),
      });
    }

    it("enrols with the pin, seals context, hashes locally, and gets a receipt whose dph is its own", async () => {
      const account = await world.kit.giveAccountKey(world.person);
      const { code, shownPin } = await createE2eAgent();
      const enrolled = await enrollAgent({ server: world.server, code, now: () => world.kit.clock.now() });
      assert.ok(enrolled.e2e);
      assert.equal(enrolled.e2e.account_key_id, account.id);
      assert.equal(enrolled.e2e.fingerprint, accountKeyFingerprint(account.keys.publicKey));
      assert.equal(enrolled.e2e.fingerprint, shownPin.fingerprint, "the agent pins what the app shows");
      assert.deepEqual(enrolled.key.e2e, enrolled.e2e, "the pin goes into the key file");

      const keyFile = join(world.dir, `sealed-${kind}.json`);
      await writeKeyFile(keyFile, enrolled.key);
      const client = await createAgentClient({ keyFile, server: world.server, now: () => world.kit.clock.now() });
      assert.deepEqual(client.e2e, enrolled.e2e);

      const marker = `sdk-marker-${toBase64Url(randomBytes(9))}`;
      const context = { commit: "a1b2c3", note: marker };
      const sent: string[] = [];
      const spying = await createAgentClient({
        keyFile,
        server: world.server,
        now: () => world.kit.clock.now(),
        fetch: async (input, init) => {
          const body = init?.body;
          sent.push(body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body ?? ""));
          return fetch(input, init);
        },
      });
      const pending = await spying.requestApproval({
        actionType: "deploy.production",
        title: "Deploy api v2.3.1",
        context,
      });
      assert.ok(sent.length > 0 && sent.every((body) => !body.includes(marker)), "no plaintext leaves the agent");
      assert.ok(sent.some((body) => body.includes('"context_e2e"')));
      assert.match(pending.displayPayloadHash, /^sha256:[0-9a-f]{64}$/);
      assert.equal(pending.approval.displayPayloadHash, pending.displayPayloadHash);

      // The app side: only ciphertext in the view; decrypted and hashed, it is the agent's hash.
      const shown = await world.kit.personCall(world.person, "GET", `/v1/me/approvals/${pending.id}`);
      assert.ok(!JSON.stringify(shown.body).includes(marker));
      const rendered = await world.kit.openForPerson(world.person, shown.body.approval);
      assert.deepEqual(rendered.context, context);
      assert.equal(await displayPayloadHash(rendered), pending.displayPayloadHash);

      const waiting = pending.wait();
      await world.decide(pending.id, pending.numberMatch);
      const outcome = await waiting;
      assert.equal(outcome.status, "approved");
      assert.ok(outcome.status === "approved");
      assert.equal(decodeJwt(outcome.receipt).dph, pending.displayPayloadHash);
      const jwksUrl = new URL("/.well-known/jwks.json", world.server);
      const currentDate = new Date(world.kit.clock.now());
      const { payload } = await jwtVerify(outcome.receipt, createRemoteJWKSet(jwksUrl), {
        issuer: world.kit.config.publicUrl,
        audience: enrolled.agentId,
        typ: RECEIPT_TYPE,
        currentDate,
      });
      assert.equal(payload.dph, pending.displayPayloadHash);
      await verifyReceipt(outcome.receipt, {
        jwksUrl,
        issuer: world.kit.config.publicUrl,
        audience: enrolled.agentId,
        actionType: "deploy.production",
        displayPayload: { ...rendered },
        currentDate,
      });
    });

    it("refuses a receipt whose dph is not the hash it computed", async () => {
      const client = await pinnedClient();
      const pending = await client.requestApproval({
        actionType: "db.migrate",
        title: "Migrate",
        context: { shard: 7 },
      });
      // Retrying with the caller's own Idempotency-Key sends the same ciphertext, so it is the same request.
      const key = crypto.randomUUID();
      const input = { actionType: "deploy.retry", title: "Retry", context: { n: 1 } };
      const first = await client.requestApproval(input, { idempotencyKey: key });
      const retried = await client.requestApproval(input, { idempotencyKey: key });
      assert.equal(retried.id, first.id);
      assert.equal(retried.displayPayloadHash, first.displayPayloadHash);

      // The server cannot compare an end-to-end request's hash: it takes the app's. One that
      // hashed something else gets a receipt for something else, which the agent refuses.
      const waiting = pending.wait();
      const other = `sha256:${"0".repeat(64)}`;
      const { res } = await world.kit.decide(world.person, pending.id, {
        displayPayloadHash: other,
        number: pending.numberMatch as string,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assert.rejects(waiting, (error: unknown) => isCountersignError(error, "display_hash_mismatch"));
      // Nor does any other way of reading the approval hand it over unchecked.
      const mismatch = (error: unknown) => isCountersignError(error, "display_hash_mismatch");
      // Plain polls are rate limited (429 slow_down): the test clock moves past the interval.
      const later = () => world.kit.clock.advance(10_000);
      later();
      await assert.rejects(client.get(pending.id), mismatch);
      later();
      await assert.rejects(client.wait(pending.id), mismatch);
      later();
      await assert.rejects(client.cancel(pending.id), mismatch);
      later();
      await assert.rejects(pending.cancel(), mismatch);
      await assert.rejects(
        (async () => {
          for await (const _state of pending.events()) {
            // drained
          }
        })(),
        mismatch,
      );
    });

    it("hands over an approval read by id only against the hash computed when asking", async () => {
      const client = await pinnedClient();
      const pending = await client.requestApproval({ actionType: "deploy.byid", title: "By id", context: { k: 1 } });
      await world.decide(pending.id, pending.numberMatch);
      const expected = { displayPayloadHash: pending.displayPayloadHash };
      // Plain polls are rate limited (429 slow_down): the test clock moves past the interval.
      const later = () => world.kit.clock.advance(10_000);
      later();
      await assert.rejects(client.get(pending.id), (error: unknown) =>
        isCountersignError(error, "display_hash_mismatch"),
      );
      later();
      assert.equal((await client.get(pending.id, expected)).status, "approved");
      later();
      assert.equal((await client.wait(pending.id, expected)).status, "approved");
      const states = [];
      for await (const state of client.events(pending.id, expected)) states.push(state.status);
      assert.deepEqual(states, ["approved"]);
      assert.equal((await pending.wait()).status, "approved");
    });

    it("an unpinned client learns from whoami that the agent is end to end, and sends no plaintext context", async () => {
      await world.kit.giveAccountKey(world.person);
      const { code } = await createE2eAgent();
      const enrolled = await enrollAgent({ server: world.server, code, now: () => world.kit.clock.now() });
      const unpinned = await createAgentClient({
        server: world.server,
        privateKey: { ...enrolled.key },
        agentId: enrolled.agentId,
        now: () => world.kit.clock.now(),
      });
      const me = await unpinned.whoami();
      assert.deepEqual(me.e2e, enrolled.e2e, "whoami names the pinned key set");
      const creates = () => world.door.seen.filter((r) => r.method === "POST" && r.target === "/v1/approvals").length;
      const before = creates();
      await assert.rejects(
        unpinned.requestApproval({ actionType: "deploy.unpinned", title: "Unpinned", context: { secret: "s" } }),
        (error: unknown) => isCountersignError(error, "e2e_context_required"),
      );
      assert.equal(creates(), before, "the plaintext context was never sent");

      // A plaintext agent's client asks once, then sends as before; its key file records null.
      const plainCode = await world.enrollmentCode();
      const plain = await enrollAgent({ server: world.server, code: plainCode, now: () => world.kit.clock.now() });
      assert.equal(plain.key.e2e, null);
      const plainClient = await createAgentClient({
        server: world.server,
        privateKey: { ...plain.key },
        agentId: plain.agentId,
        now: () => world.kit.clock.now(),
      });
      const asked = await plainClient.requestApproval({
        actionType: "deploy.plain",
        title: "Plain",
        context: { a: 1 },
      });
      assert.equal(asked.created, true);
    });

    it("checks the pin: a fingerprint that is not its key's is refused", () => {
      const pin = { account_key_id: `ak_${"A".repeat(22)}`, public_key: toBase64Url(randomBytes(32)) };
      assert.throws(
        () => parseE2ePin({ ...pin, fingerprint: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA" }),
        (error: unknown) => error instanceof CountersignError && error.code === "validation_failed",
      );
    });

    it("CLI: enroll prints the fingerprint and pins it; request uses it; a changed key set says what to do", async () => {
      const account = await world.kit.giveAccountKey(world.person);
      const { code } = await createE2eAgent();
      const keyFile = join(world.dir, `cli-${kind}.json`);
      const io = { env: { COUNTERSIGN_KEY_FILE: keyFile }, cwd: world.dir, now: () => world.kit.clock.now() };
      const enrolled = await runCliToEnd(["enroll", "--server", world.server, "--code", code], io);
      assert.equal(enrolled.code, EXIT.approved, enrolled.stderr);
      assert.ok(enrolled.stdout.includes(account.fingerprint), enrolled.stdout);
      assert.match(enrolled.stdout, /Check that your app shows the same fingerprint/);
      const saved = JSON.parse(readFileSync(keyFile, "utf8"));
      assert.equal(saved.e2e.fingerprint, account.fingerprint);
      assert.equal(saved.e2e.account_key_id, account.id);

      const me = await runCliToEnd(["whoami"], io);
      assert.ok(me.stdout.includes(`end to end to the account key ${account.fingerprint}`), me.stdout);

      const asked = await runCliToEnd(
        ["request", "--action", "deploy.staging", "--title", "Deploy staging", "--context", '{"x":1}', "--json"],
        io,
      );
      assert.equal(asked.code, EXIT.approved, asked.stderr);
      const id = JSON.parse(asked.stdout).id as string;
      const shown = await world.kit.personCall(world.person, "GET", `/v1/me/approvals/${id}`);
      assert.equal(shown.body.approval.e2e, true);
      assert.deepEqual((await world.kit.openForPerson(world.person, shown.body.approval)).context, { x: 1 });

      // Approved: `status` reports it only against the hash the agent computed (request printed it).
      const dph = JSON.parse(asked.stdout).display_payload_hash as string;
      assert.match(dph, /^sha256:[0-9a-f]{64}$/);
      await world.decide(id, JSON.parse(asked.stdout).number_match);
      world.kit.clock.advance(10_000);
      const unchecked = await runCliToEnd(["status", id], io);
      assert.equal(unchecked.code, EXIT.error);
      assert.match(unchecked.stderr, /display_hash_mismatch/);
      world.kit.clock.advance(10_000);
      const checked = await runCliToEnd(["status", id, "--dph", dph], io);
      assert.equal(checked.code, EXIT.approved, checked.stderr);
      assert.equal(decodeJwt(checked.stdout.trim()).dph, dph);
      world.kit.clock.advance(10_000);
      const other = await runCliToEnd(["status", id, "--dph", `sha256:${"1".repeat(64)}`], io);
      assert.equal(other.code, EXIT.error);
      const plain = await runCliToEnd(["request", "--action", "deploy.other", "--title", "Other"], io);
      assert.match(plain.stderr, /Display payload hash: sha256:[0-9a-f]{64}/);

      // A key reset in the app: the pinned key set is retired.
      await world.kit.giveAccountKey(world.person);
      const refused = await runCliToEnd(
        ["request", "--action", "db.migrate", "--title", "Migrate", "--context", '{"x":2}'],
        io,
      );
      assert.equal(refused.code, EXIT.error);
      assert.match(refused.stderr, /account_key_changed/);
      assert.match(refused.stderr, /check the new fingerprint in the app, rotate the agent there, and enrol again/);
    });
  });
}
