import assert from "node:assert/strict";
import { it } from "node:test";
import { APPROVAL_REASONS, APPROVAL_STATUSES, isTerminalStatus } from "@countersign/protocol";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Queryable } from "../db/database.ts";

/** The quoted values in the one CHECK constraint of `approval_requests` that `pattern` picks out. */
async function valuesIn(db: Queryable, pattern: RegExp): Promise<string[]> {
  const { rows } = await db.query<{ def: string }>(
    `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = 'approval_requests'::regclass AND contype = 'c'`,
  );
  const picked = rows.map((row) => row.def).filter((def) => pattern.test(def));
  assert.equal(picked.length, 1, `one constraint matches ${pattern}`);
  return [...(picked[0] as string).matchAll(/'([a-z_]+)'::text/g)].map((match) => match[1] as string).sort();
}

// The states and reasons are defined once, in the protocol package, for the server's views, the
// agent SDK and the app; the database's CHECK constraints (migration 008) hold the rows to them.
describeEachDatabase("the approval states shared by server, SDK and app", (ctx) => {
  it("are exactly what the database allows", async () => {
    // "CHECK ((status = ANY (ARRAY['pending'::text, …])))", and the same for reason.
    assert.deepEqual(await valuesIn(ctx.db, /^CHECK \(\(status = ANY/), [...APPROVAL_STATUSES].sort());
    assert.deepEqual(await valuesIn(ctx.db, /^CHECK \(\(reason = ANY/), [...APPROVAL_REASONS].sort());
  });

  it("call final exactly the states the database gives a decision time", async () => {
    // Migration 008: a request has decided_at exactly when its state is one of the final ones.
    const decided = await valuesIn(ctx.db, /= \(decided_at IS NOT NULL\)/);
    assert.deepEqual(APPROVAL_STATUSES.filter((status) => isTerminalStatus(status)).sort(), decided);
    assert.ok(decided.length > 0 && decided.length < APPROVAL_STATUSES.length);
  });
});
