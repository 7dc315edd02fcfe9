import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { createTokenDigester } from "../accounts/token-digest.ts";
import type { Database } from "../db/database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import { createDecisionNonces, DECISION_NONCE_TTL_MS } from "./decision-nonces.ts";
import { type ApprovalTestKit, createApprovalTestKit, type TestPerson } from "./test-support/approval-test-kit.ts";

describeEachDatabase("decision nonces", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let bob: TestPerson;
  // One connection on PostgreSQL, so SHOW runs on the session that issued and consumed.
  let db: Database;
  const nonces = createDecisionNonces(createTokenDigester(randomBytes(32)));

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    [alice, bob] = [await kit.newPerson(), await kit.newPerson()];
    db = ctx.kind === "postgres" ? await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 1 }) : ctx.db;
  });

  async function newRequest(): Promise<string> {
    const res = await kit.ask(await kit.newAgent(alice));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  }

  it("spends a nonce once, only for its request and person, only while live", async (t) => {
    if (db !== ctx.db) t.after(() => db.close());
    const [requestId, otherRequest] = [await newRequest(), await newRequest()];
    const now = new Date(kit.clock.now());
    const use = (nonce: string, over: { requestId?: string; userId?: string; now?: Date } = {}) =>
      nonces.consume(db, { nonce, requestId, userId: alice.userId, now, ...over });

    const { nonce } = await nonces.issue(db, { requestId, userId: alice.userId, now });
    assert.equal(await use(nonce, { requestId: otherRequest }), false, "another request's");
    assert.equal(await use(nonce), true);
    assert.equal(await use(nonce), false, "single use");

    const forBob = await nonces.issue(db, { requestId, userId: alice.userId, now });
    assert.equal(await use(forBob.nonce, { userId: bob.userId }), false, "another person's");
    assert.equal(await use(forBob.nonce), false, "a refused attempt spends it too");

    const late = await nonces.issue(db, { requestId, userId: alice.userId, now });
    assert.equal(await use(late.nonce, { now: new Date(now.getTime() + DECISION_NONCE_TTL_MS) }), false, "expired");

    // Both statements committed relaxed, each in its own transaction: the session is as it was.
    const { rows } = await db.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
    assert.equal(rows[0]?.synchronous_commit, "on");
  });
});
