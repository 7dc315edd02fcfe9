import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, it } from "node:test";
import { toBase64Url } from "@countersign/protocol";
import { recordingPool } from "../../test-support/recording-database.ts";
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

  it("consumes the nonces of concurrent decisions with one statement, each answered as if alone", async () => {
    const [requestId, otherRequest] = [await newRequest(), await newRequest()];
    const now = new Date(kit.clock.now());
    const issued = await Promise.all(
      Array.from({ length: 4 }, () => nonces.issue(ctx.db, { requestId, userId: alice.userId, now })),
    );
    const [a, b, c, d] = issued.map((issue) => issue.nonce) as [string, string, string, string];
    const spentBefore = await nonces.issue(ctx.db, { requestId, userId: alice.userId, now });
    assert.equal(
      await nonces.consume(ctx.db, { nonce: spentBefore.nonce, requestId, userId: alice.userId, now }),
      true,
    );

    const statements: string[] = [];
    const db = recordingPool(ctx.db, (sql) => statements.push(sql));
    const use = (nonce: string, over: { requestId?: string; userId?: string; now?: Date } = {}) =>
      nonces.consume(db, { nonce, requestId, userId: alice.userId, now, ...over });
    const answers = await Promise.all([
      use(a),
      use(a), // the same nonce twice in one batch: spent by the first
      use(b, { userId: bob.userId }), // another person's attempt spends it and fails
      use(c, { now: new Date(now.getTime() + DECISION_NONCE_TTL_MS) }), // expired
      use(d, { requestId: otherRequest }), // quoted for another request: not this one's nonce
      use(spentBefore.nonce), // already spent
      use("not a nonce"), // refused before any statement
      use(toBase64Url(randomBytes(32))), // never issued
    ]);
    assert.deepEqual(answers, [true, false, false, false, false, false, false, false]);
    assert.equal(statements.length, 1, "one DELETE for the whole turn");
    // b and c were spent by their failed attempts; d is still live for its own request.
    assert.equal(await use(b), false);
    assert.equal(await use(c), false);
    assert.equal(await use(d), true);
  });
});
