import assert from "node:assert/strict";
import { it } from "node:test";
import {
  AGENT_AUTH_MODES,
  AGENT_STATUSES,
  APPROVAL_REASONS,
  APPROVAL_STATUSES,
  isTerminalStatus,
} from "@countersign/protocol";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Queryable } from "./database.ts";

/** The quoted values in the one CHECK constraint of `table` that `pattern` picks out, sorted. */
async function valuesIn(db: Queryable, table: string, pattern: RegExp): Promise<string[]> {
  const { rows } = await db.query<{ def: string }>(
    "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'",
    [table],
  );
  const picked = rows.map((row) => row.def).filter((def) => pattern.test(def));
  assert.equal(picked.length, 1, `one constraint of ${table} matches ${pattern}`);
  return [...(picked[0] as string).matchAll(/'([a-z_]+)'::text/g)].map((match) => match[1] as string).sort();
}

// The states, reasons and modes are defined once, in the protocol package, for the server's
// views, the agent SDK and the app; the database's CHECK constraints hold the rows to the same
// lists (migrations 006 and 008), so the two must not drift apart.
describeEachDatabase("the states shared by server, SDK and app", (ctx) => {
  it("are exactly what the database allows: approval states and reasons", async () => {
    // "CHECK ((status = ANY (ARRAY['pending'::text, …])))", and the same for reason.
    assert.deepEqual(
      await valuesIn(ctx.db, "approval_requests", /^CHECK \(\(status = ANY/),
      [...APPROVAL_STATUSES].sort(),
    );
    assert.deepEqual(
      await valuesIn(ctx.db, "approval_requests", /^CHECK \(\(reason = ANY/),
      [...APPROVAL_REASONS].sort(),
    );
  });

  it("call final exactly the approval states the database gives a decision time", async () => {
    // Migration 008: a request has decided_at exactly when its state is one of the final ones.
    const decided = await valuesIn(ctx.db, "approval_requests", /= \(decided_at IS NOT NULL\)/);
    assert.deepEqual(APPROVAL_STATUSES.filter((status) => isTerminalStatus(status)).sort(), decided);
    assert.ok(decided.length > 0 && decided.length < APPROVAL_STATUSES.length);
  });

  it("are exactly what the database allows: agent auth modes and states", async () => {
    assert.deepEqual(await valuesIn(ctx.db, "agents", /^CHECK \(\(auth_mode = ANY/), [...AGENT_AUTH_MODES].sort());
    assert.deepEqual(await valuesIn(ctx.db, "agents", /^CHECK \(\(status = ANY/), [...AGENT_STATUSES].sort());
  });
});
