import assert from "node:assert/strict";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { createReceiptSigner } from "../approvals/receipt-signer.ts";
import { type ApprovalTestKit, createApprovalTestKit } from "../approvals/test-support/approval-test-kit.ts";
import type { Queryable } from "../db/database.ts";
import { approvedInWindow } from "./approval-lookup.ts";
import { createReceiptVerifier } from "./receipt-verifier.ts";
import { reconcileActions } from "./reconcile-actions.ts";
import { type ApprovedAction, approveAction } from "./test-support/approved-action.ts";

const MINUTE = 60_000;

/** Counts the statements sent, to hold the command to batched reads. */
function countingQueryable(q: Queryable): Queryable & { readonly count: number } {
  let count = 0;
  return {
    get count() {
      return count;
    },
    query(sql, params) {
      count += 1;
      return q.query(sql, params);
    },
    exec: (sql) => q.exec(sql),
  };
}

async function* linesOf(lines: readonly string[]): AsyncGenerator<string> {
  yield* lines;
}

describeEachDatabase("reconcileActions", (ctx) => {
  let kit: ApprovalTestKit;
  const approved: ApprovedAction[] = [];

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    const alice = await kit.newPerson();
    const agent = await kit.newAgent(alice);
    for (let i = 0; i < 5; i++) {
      approved.push(await approveAction(kit, alice, agent, `deploy.svc${i}`));
      kit.clock.advance(MINUTE);
    }
  });

  const verifier = () =>
    createReceiptVerifier(createReceiptSigner(kit.config.secrets.signingKeys).jwks, kit.config.publicUrl);
  const executions = () =>
    approved.map((a) =>
      JSON.stringify({
        receipt: a.receipt,
        action_type: a.actionType,
        executed_at: new Date(a.issuedAt + 1_000).toISOString(),
      }),
    );

  it("reads requests one query per batch of lines, not one per line, and finds duplicates across batches", async () => {
    const db = countingQueryable(ctx.db);
    const lines = [...executions(), executions()[0] as string];
    const report = await reconcileActions({
      db,
      lines: linesOf(lines),
      verifier: verifier(),
      window: { since: undefined, until: undefined },
      asOf: kit.clock.now() + 60 * MINUTE,
      batchSize: 2,
    });
    // 6 lines in batches of 2: 3 lookups; then one page of approvals.
    assert.equal(db.count, 4);
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.line, f.message]),
      [["DUPLICATE_EXECUTION", 6, "already executed on line 1"]],
    );
    assert.equal(report.counts.reconciled, 5);
    assert.equal(report.counts.executed, 5);
  });

  it("pages through the approvals of a window in decision order, each once", async () => {
    const all = [];
    for await (const row of approvedInWindow(ctx.db, { since: undefined, until: undefined }, 2)) all.push(row.id);
    assert.deepEqual(
      all,
      approved.map((a) => a.id),
    );
    const middle = [];
    const window = { since: approved[1]?.issuedAt, until: approved[3]?.issuedAt };
    for await (const row of approvedInWindow(ctx.db, window, 1)) middle.push(row.id);
    assert.deepEqual(middle, [approved[1]?.id, approved[2]?.id]);
  });

  it("reports the approvals of the window with no action, in decision order", async () => {
    const report = await reconcileActions({
      db: ctx.db,
      lines: linesOf(executions().slice(0, 2)),
      verifier: verifier(),
      window: { since: approved[1]?.issuedAt, until: undefined },
      asOf: kit.clock.now() + 60 * MINUTE,
    });
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.request_id]),
      [
        ["NOT_EXECUTED", approved[2]?.id],
        ["NOT_EXECUTED", approved[3]?.id],
        ["NOT_EXECUTED", approved[4]?.id],
      ],
    );
    // The first line was executed before the window opened.
    assert.equal(report.counts.outside_window, 1);
    assert.equal(report.counts.approvals, 4);
    assert.equal(report.counts.executed, 1);
  });
});
