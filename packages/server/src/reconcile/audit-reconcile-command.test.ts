import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RECEIPT_TYPE } from "@countersign/protocol";
import { generateKeyPair, importJWK, SignJWT } from "jose";
import { pgliteTemplate } from "../../test-support/pglite-template.ts";
import { CLI, runCli } from "../../test-support/run-cli.ts";
import { createTestDatabase, type TestDatabase, testDatabaseKinds } from "../../test-support/test-database.ts";
import { createReceiptSigner } from "../approvals/receipt-signer.ts";
import {
  type ApprovalTestKit,
  createApprovalTestKit,
  type TestAgent,
} from "../approvals/test-support/approval-test-kit.ts";
import type { Database } from "../db/database.ts";
import { MIGRATIONS_DIR } from "../db/migrate.ts";
import { openPgliteDatabase } from "../db/pglite-database.ts";
import type { ReconcileReport } from "./reconcile-finding.ts";
import { type ApprovedAction, approveAction, expireAction, rejectAction } from "./test-support/approved-action.ts";

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** One action line as an executor would append it. */
function line(fields: Record<string, unknown>): string {
  return JSON.stringify(fields);
}

// Issue 6 part 8 "Done when": the reconcile command finds a planted unapproved action.
for (const kind of testDatabaseKinds()) {
  describe(`countersign audit reconcile [${kind}]`, () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-reconcile-"));
    let env: Record<string, string>;
    let postgres: TestDatabase | undefined;
    let agentId = "";
    // The approvals, named by what the actions file does with them.
    let correct: ApprovedAction; // executed once, correctly; then again (duplicate)
    let mismatched: ApprovedAction; // executed as another action type
    let late: ApprovedAction; // executed after its receipt expired
    let neverExecuted: ApprovedAction; // only a forged receipt claims it
    let wrongHash: ApprovedAction; // executed with another display payload
    let wrongAudience: ApprovedAction; // a server-signed receipt for another agent
    let early: ApprovedAction; // executed before it was approved
    let rejected = "";
    let expired = "";
    let forged = "";
    let wrongTyp = "";
    let serverSignedForOtherAgent = "";

    before(async () => {
      env = { COUNTERSIGN_ENV: "test", COUNTERSIGN_DATA_DIR: dir };
      let db: Database;
      if (kind === "postgres") {
        postgres = await createTestDatabase("postgres");
        env.DATABASE_URL = postgres.url as string;
        db = postgres.db;
      } else {
        // A file database the CLI process opens once this one is closed.
        db = await openPgliteDatabase({ path: join(dir, "pgdata"), loadDataDir: await pgliteTemplate(MIGRATIONS_DIR) });
      }
      // The kit writes the secrets the CLI reads into the data directory.
      const kit = await createApprovalTestKit(db, { env: { COUNTERSIGN_DATA_DIR: dir } });
      try {
        // Receipts are dated on the kit's clock; three days ago, every receipt has expired by now.
        kit.clock.set(Math.floor((Date.now() - 3 * 24 * 60 * MINUTE) / 1000) * 1000);
        await buildHistory(kit);
      } finally {
        await kit.app.close();
        if (kind === "pglite") await db.close();
      }
    });

    async function buildHistory(kit: ApprovalTestKit): Promise<void> {
      const alice = await kit.newPerson("alice@example.com");
      const agent: TestAgent = await kit.newAgent(alice);
      agentId = agent.id;
      // Ten minutes apart, so that a window can hold one approval; a session idles out after 30.
      const next = async (actionType: string) => {
        const approved = await approveAction(kit, alice, agent, actionType);
        kit.clock.advance(10 * MINUTE);
        return approved;
      };
      correct = await next("deploy.production");
      mismatched = await next("db.migrate");
      late = await next("deploy.staging");
      neverExecuted = await next("deploy.production");
      wrongHash = await next("deploy.preview");
      wrongAudience = await next("deploy.canary");
      early = await next("deploy.docs");
      rejected = await rejectAction(kit, alice, agent, "deploy.hotfix");
      expired = await expireAction(kit, agent, "deploy.rollback");

      const claims = (approved: ApprovedAction, aud = agent.id) =>
        new SignJWT({ act: approved.actionType, dph: approved.displayPayloadHash, amr: ["hwk", "user"] })
          .setIssuer(kit.config.publicUrl)
          .setSubject(alice.userId)
          .setAudience(aud)
          .setJti(approved.id)
          .setIssuedAt(approved.issuedAt / 1000)
          .setExpirationTime(approved.expiresAt / 1000);
      const serverKey = kit.config.secrets.signingKeys[0];
      assert.ok(serverKey);
      // An agent that bypasses Countersign forges a receipt for a real approval with its own key,
      // under the server's key id as published in the JWKS.
      const { privateKey: attackerKey } = await generateKeyPair("EdDSA");
      forged = await claims(neverExecuted)
        .setProtectedHeader({ alg: "EdDSA", typ: RECEIPT_TYPE, kid: serverKey.kid })
        .sign(attackerKey);
      // The server's key, misused: a plain JWT is not a receipt; nor is a receipt for another agent.
      const serverPrivate = await importJWK({ ...serverKey, alg: "EdDSA" }, "EdDSA");
      wrongTyp = await claims(neverExecuted)
        .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: serverKey.kid })
        .sign(serverPrivate);
      serverSignedForOtherAgent = await createReceiptSigner(kit.config.secrets.signingKeys).sign({
        iss: kit.config.publicUrl,
        sub: alice.userId,
        aud: "agt_someoneElse000000000000",
        jti: wrongAudience.id,
        iat: wrongAudience.issuedAt / 1000,
        exp: wrongAudience.expiresAt / 1000,
        act: wrongAudience.actionType,
        dph: wrongAudience.displayPayloadHash,
        amr: ["hwk", "user"],
      });
    }

    after(async () => {
      await postgres?.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Writes an actions file (one entry per line; strings as they are) and returns its path. */
    function actionsFile(name: string, lines: readonly string[]): string {
      const path = join(dir, name);
      writeFileSync(path, `${lines.join("\n")}\n`);
      return path;
    }

    function plantedLog(): string {
      const at = (approved: ApprovedAction, afterMs: number) => iso(approved.issuedAt + afterMs);
      return actionsFile("actions.jsonl", [
        /* 1 */ line({
          receipt: correct.receipt,
          action_type: "deploy.production",
          executed_at: at(correct, MINUTE),
          display_payload_hash: correct.displayPayloadHash,
          commit: "a1b2c3",
        }),
        /* 2 */ line({
          request_id: "apr_planted0000000000000000",
          action_type: "deploy.production",
          executed_at: at(correct, 2 * MINUTE),
        }),
        /* 3 */ line({ receipt: forged, action_type: "deploy.production", executed_at: at(neverExecuted, MINUTE) }),
        /* 4 */ line({
          receipt: mismatched.receipt,
          action_type: "deploy.production",
          executed_at: at(mismatched, MINUTE),
          run: "ci-42",
        }),
        /* 5 */ line({
          receipt: late.receipt,
          action_type: "deploy.staging",
          executed_at: iso(late.expiresAt + 1_000),
        }),
        /* 6 */ line({
          request_id: correct.id,
          action_type: "deploy.production",
          executed_at: at(correct, 3 * MINUTE),
        }),
        /* 7 */ line({ request_id: rejected, action_type: "deploy.hotfix", executed_at: at(early, 20 * MINUTE) }),
        /* 8 */ "deployed api v2.3.1 {",
        /* 9 */ line({ action_type: "deploy.production", executed_at: "yesterday" }),
        /* 10 */ "",
        /* 11 */ line({ action_type: "deploy.production", executed_at: at(correct, 4 * MINUTE), host: "ci-runner-7" }),
        /* 12 */ line({
          receipt: wrongHash.receipt,
          action_type: "deploy.preview",
          executed_at: at(wrongHash, MINUTE),
          display_payload_hash: `sha256:${"0".repeat(64)}`,
        }),
        /* 13 */ line({
          receipt: serverSignedForOtherAgent,
          action_type: "deploy.canary",
          executed_at: at(wrongAudience, MINUTE),
        }),
        /* 14 */ line({ receipt: early.receipt, action_type: "deploy.docs", executed_at: at(early, -MINUTE) }),
        /* 15 */ line({ request_id: expired, action_type: "deploy.rollback", executed_at: at(early, 30 * MINUTE) }),
        /* 16 */ line({
          receipt: wrongTyp,
          action_type: "deploy.production",
          executed_at: at(neverExecuted, 2 * MINUTE),
        }),
      ]);
    }

    it("finds the planted unapproved actions and every other problem, one greppable line each, exit 1", async () => {
      const run = await runCli(["audit", "reconcile", "--actions", plantedLog()], env);
      assert.equal(run.code, 1, run.stderr + run.stdout);
      assert.equal(run.stderr, "");
      const findings = run.stdout.split("\n").filter((l) => /^[A-Z_]+ /.test(l));
      const expected: [RegExp, string][] = [
        [
          /^NO_APPROVAL line 2 apr_planted0000000000000000: no approval request apr_planted0000000000000000 exists$/,
          "unknown id",
        ],
        [
          /^INVALID_RECEIPT line 3: the receipt is not valid: the signature does not verify with the server's key$/,
          "forged",
        ],
        [
          new RegExp(
            `^ACTION_MISMATCH line 4 ${mismatched.id}: executed deploy\\.production, but db\\.migrate was approved$`,
          ),
          "type",
        ],
        [
          new RegExp(
            `^EXPIRED_RECEIPT line 5 ${late.id}: executed at .*, after the receipt expired at ${iso(late.expiresAt)}$`,
          ),
          "exp",
        ],
        [new RegExp(`^DUPLICATE_EXECUTION line 6 ${correct.id}: already executed on line 1$`), "duplicate"],
        [new RegExp(`^NO_APPROVAL line 7 ${rejected}: request ${rejected} is rejected, not approved$`), "rejected"],
        [/^BAD_LINE line 8: not JSON$/, "not JSON"],
        [/^BAD_LINE line 9: executed_at must be an RFC 3339 date-time/, "bad time"],
        [/^NO_APPROVAL line 11: the action names no approval \(neither receipt nor request_id\)$/, "no approval named"],
        [
          new RegExp(
            `^HASH_MISMATCH line 12 ${wrongHash.id}: executed display payload sha256:0{64}, but ${wrongHash.displayPayloadHash} was approved$`,
          ),
          "hash",
        ],
        [
          new RegExp(
            `^RECEIPT_MISMATCH line 13 ${wrongAudience.id}: aud agt_someoneElse000000000000 is not the requesting agent ${agentId}$`,
          ),
          "aud",
        ],
        [
          new RegExp(
            `^EXECUTED_BEFORE_APPROVAL line 14 ${early.id}: executed at ${iso(early.issuedAt - MINUTE)}, before the receipt was issued at ${iso(early.issuedAt)}$`,
          ),
          "early",
        ],
        [
          new RegExp(`^NO_APPROVAL line 15 ${expired}: request ${expired} is expired \\(expired\\), not approved$`),
          "expired request",
        ],
        [/^INVALID_RECEIPT line 16: the receipt is not valid: typ is JWT, not countersign-receipt\+jwt$/, "typ"],
        [
          new RegExp(
            `^NOT_EXECUTED ${neverExecuted.id}: deploy\\.production approved at .* for ${agentId}; the receipt expired at ${iso(neverExecuted.expiresAt)} with no action line naming it$`,
          ),
          "never executed",
        ],
      ];
      assert.equal(findings.length, expected.length, findings.join("\n"));
      for (const [i, [pattern, what]] of expected.entries()) assert.match(findings[i] ?? "", pattern, what);
      assert.match(run.stdout, /^Actions: 16 lines read, 13 checked, 0 outside the window, 1 reconciled\.$/m);
      assert.match(
        run.stdout,
        /^Approvals: 7 approved in the window, 6 executed, 1 not executed, 0 awaiting execution\.$/m,
      );
      assert.match(
        run.stdout,
        /\nFAILED: 15 findings \(BAD_LINE 2, NO_APPROVAL 4, INVALID_RECEIPT 2, RECEIPT_MISMATCH 1, ACTION_MISMATCH 1, HASH_MISMATCH 1, EXPIRED_RECEIPT 1, EXECUTED_BEFORE_APPROVAL 1, DUPLICATE_EXECUTION 1, NOT_EXECUTED 1\)\.\n$/,
      );
    });

    it("--json prints the same findings with each action line kept whole", async () => {
      const run = await runCli(["audit", "reconcile", "--actions", plantedLog(), "--json"], env);
      assert.equal(run.code, 1, run.stderr);
      const report = JSON.parse(run.stdout) as ReconcileReport;
      assert.equal(report.ok, false);
      assert.deepEqual(report.window, { since: null, until: null });
      assert.deepEqual(
        report.findings.map((f) => [f.code, f.line]),
        [
          ["NO_APPROVAL", 2],
          ["INVALID_RECEIPT", 3],
          ["ACTION_MISMATCH", 4],
          ["EXPIRED_RECEIPT", 5],
          ["DUPLICATE_EXECUTION", 6],
          ["NO_APPROVAL", 7],
          ["BAD_LINE", 8],
          ["BAD_LINE", 9],
          ["NO_APPROVAL", 11],
          ["HASH_MISMATCH", 12],
          ["RECEIPT_MISMATCH", 13],
          ["EXECUTED_BEFORE_APPROVAL", 14],
          ["NO_APPROVAL", 15],
          ["INVALID_RECEIPT", 16],
          ["NOT_EXECUTED", null],
        ],
      );
      const mismatch = report.findings.find((f) => f.code === "ACTION_MISMATCH");
      assert.equal(mismatch?.request_id, mismatched.id);
      assert.equal(mismatch?.action?.run, "ci-42", "fields the command does not read are kept");
      assert.equal(mismatch?.action?.receipt, mismatched.receipt);
      assert.equal(report.findings.find((f) => f.line === 8)?.text, "deployed api v2.3.1 {");
      assert.equal(report.findings.find((f) => f.line === 11)?.action?.host, "ci-runner-7");
      const notExecuted = report.findings.at(-1);
      assert.deepEqual(notExecuted?.approval, {
        request_id: neverExecuted.id,
        action_type: "deploy.production",
        agent_id: agentId,
        user_id: notExecuted?.approval?.user_id,
        decided_at: notExecuted?.approval?.decided_at,
        receipt_expires_at: iso(neverExecuted.expiresAt),
      });
      assert.match(notExecuted?.approval?.user_id ?? "", /^usr_/);
      assert.equal(report.counts.lines, 16);
      assert.equal(report.counts.reconciled, 1);
      assert.equal(report.counts.findings, 15);
      assert.deepEqual(report.counts.by_code.INVALID_RECEIPT, 2);
    });

    it("exits 0 for a clean log in a window holding one approval, and reads standard input", async () => {
      const clean = line({
        receipt: correct.receipt,
        action_type: "deploy.production",
        executed_at: iso(correct.issuedAt + MINUTE),
        display_payload_hash: correct.displayPayloadHash,
      });
      // Another action, outside the window: not checked.
      const outside = line({
        request_id: "apr_planted0000000000000000",
        action_type: "x",
        executed_at: iso(early.issuedAt),
      });
      const window = ["--since", iso(correct.issuedAt - 1_000), "--until", iso(correct.issuedAt + 5 * MINUTE)];
      const file = actionsFile("clean.jsonl", [clean, outside]);
      const run = await runCli(["audit", "reconcile", "--actions", file, ...window], env);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /^Actions: 2 lines read, 1 checked, 1 outside the window, 1 reconciled\.$/m);
      assert.match(
        run.stdout,
        /^Approvals: 1 approved in the window, 1 executed, 0 not executed, 0 awaiting execution\.$/m,
      );
      assert.match(
        run.stdout,
        /\nOK: every action matches an approval, and every approval of the window was executed once\.\n$/,
      );

      // `jq … | countersign audit reconcile --actions -`
      const piped = spawnSync(process.execPath, [CLI, "audit", "reconcile", "--actions", "-", "--json", ...window], {
        env,
        input: `\uFEFF${clean}\r\n`,
        encoding: "utf8",
      });
      assert.equal(piped.status, 0, piped.stdout + piped.stderr);
      assert.equal(JSON.parse(piped.stdout).counts.reconciled, 1);
    });

    it("counts an approval whose receipt is still valid at --until as awaiting, not as a finding", async () => {
      const empty = actionsFile("empty.jsonl", []);
      const since = iso(neverExecuted.issuedAt - 1_000);
      const soon = await runCli(
        ["audit", "reconcile", "--actions", empty, "--since", since, "--until", iso(neverExecuted.issuedAt + MINUTE)],
        env,
      );
      assert.equal(soon.code, 0, soon.stdout + soon.stderr);
      assert.match(
        soon.stdout,
        new RegExp(
          `^awaiting execution: ${neverExecuted.id} \\(deploy\\.production, ${agentId}\\), receipt valid until ${iso(neverExecuted.expiresAt)}$`,
          "m",
        ),
      );
      const later = await runCli(
        ["audit", "reconcile", "--actions", empty, "--since", since, "--until", iso(neverExecuted.expiresAt + MINUTE)],
        env,
      );
      assert.equal(later.code, 1, later.stdout);
      assert.match(later.stdout, new RegExp(`^NOT_EXECUTED ${neverExecuted.id}: `, "m"));
    });

    it("exits 2 for usage and file errors, without a report", async () => {
      const usage = async (args: string[], message: RegExp) => {
        const run = await runCli(["audit", "reconcile", ...args], env);
        assert.equal(run.code, 2, `${args.join(" ")}: ${run.stdout}${run.stderr}`);
        assert.equal(run.stdout, "");
        assert.match(run.stderr, message);
      };
      await usage([], /--actions FILE is required/);
      await usage(["--actions", join(dir, "missing.jsonl")], /cannot open .*missing\.jsonl: ENOENT/);
      await usage(["--actions", dir], /cannot read .*: EISDIR/);
      await usage(["--actions", plantedLog(), "--since", "last tuesday"], /--since must be a date or an RFC 3339/);
      await usage(["--actions", plantedLog(), "--until", "2026-02-30"], /--until must be a date/);
      await usage(
        ["--actions", plantedLog(), "--since", "2026-11-22", "--until", "2026-11-21"],
        /--since must be before --until/,
      );
      await usage(["--actions", plantedLog(), "--verbose"], /Unknown option '--verbose'/);
    });
  });
}

describe("countersign --help", () => {
  it("lists audit reconcile with its usage", () => {
    const result = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /\n {2}audit reconcile --actions FILE \[--since ISO\] \[--until ISO\] \[--json\] +Reconcile executed actions/,
    );
  });
});
