import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { RECEIPT_TYPE } from "@countersign/protocol";
import { generateKeyPair, SignJWT } from "jose";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { createReceiptSigner } from "../approvals/receipt-signer.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "../approvals/test-support/approval-test-kit.ts";
import { createReceiptVerifier } from "./receipt-verifier.ts";
import { reconcileActions } from "./reconcile-actions.ts";
import { type ApprovedAction, approveAction } from "./test-support/approved-action.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const GUIDE = join(REPO, "docs/reconciliation.md");

/** The code block after `<!-- example: NAME -->` in docs/reconciliation.md, exactly as printed. */
function example(name: string, language: "js" | "sh"): string {
  const guide = readFileSync(GUIDE, "utf8");
  const start = guide.indexOf(`<!-- example: ${name} -->`);
  assert.notEqual(start, -1, `the guide has the ${name} example`);
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(guide.slice(start));
  assert.ok(match?.[1]);
  return match[1];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

const hasJq = spawnSync("jq", ["--version"]).status === 0;

describeEachDatabase("docs/reconciliation.md's scripts", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let agent: TestAgent;
  let dir: string;
  let approved: ApprovedAction;
  let display: string;

  before(async () => {
    const port = await freePort();
    kit = await createApprovalTestKit(ctx.db, { env: { COUNTERSIGN_PUBLIC_URL: `http://127.0.0.1:${port}` } });
    // The scripts check exp against the real time.
    kit.clock.set(Date.now());
    await kit.app.listen({ host: "127.0.0.1", port });
    alice = await kit.newPerson();
    agent = await kit.newAgent(alice);
    approved = await approveAction(kit, alice, agent, "deploy.production", {
      context: { commit: "a1b2c3", services: 3 },
    });

    dir = mkdtempSync(join(tmpdir(), "cs-reconcile-doc-"));
    // The scripts import jose from the repository's node_modules, as from a project's own.
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
    writeFileSync(join(dir, "verify-receipt.mjs"), example("verify-receipt", "js"));
    writeFileSync(join(dir, "countersigned"), example("countersigned", "sh"));
    chmodSync(join(dir, "countersigned"), 0o755);
    // What the agent keeps next to the receipt: the display payload, from what it asked and was answered.
    display = join(dir, "approval-display.json");
    writeFileSync(display, JSON.stringify(displayPayloadOf(approved)));
  });
  after(async () => {
    await kit.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function displayPayloadOf(
    action: ApprovedAction,
    context: Record<string, unknown> = { commit: "a1b2c3", services: 3 },
  ) {
    return {
      agent_id: agent.id,
      agent_name: "Deploy bot",
      agent_verified: true,
      action_type: action.actionType,
      title: ASK.title,
      body: ASK.body,
      context,
      binding_message: null,
      created_at: action.created.created_at,
      expires_at: action.created.expires_at,
    };
  }

  /** `countersigned ACTION_TYPE sh -c 'echo ran > MARKER'` with the guide's environment. */
  async function countersigned(actionType: string, receipt: string, env: Record<string, string> = {}) {
    const marker = join(dir, `ran-${crypto.randomUUID()}`);
    const result = await promisify(execFile)(
      join(dir, "countersigned"),
      [actionType, "sh", "-c", `echo ran > "${marker}"`],
      {
        cwd: dir,
        env: {
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
          COUNTERSIGN_URL: kit.config.publicUrl,
          COUNTERSIGN_AGENT_ID: agent.id,
          COUNTERSIGN_RECEIPT: receipt,
          COUNTERSIGN_DISPLAY_PAYLOAD: display,
          COUNTERSIGN_EXPECT_CONTEXT: '{"commit":"a1b2c3"}',
          COUNTERSIGN_ACTIONS_LOG: join(dir, "actions.jsonl"),
          ...env,
        },
        timeout: 30_000,
      },
    ).then(
      ({ stderr }) => ({ code: 0, stderr }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    return { ...result, ran: existsSync(marker) };
  }

  const reconcile = async (lines: string[]) =>
    reconcileActions({
      db: ctx.db,
      lines: (async function* () {
        yield* lines;
      })(),
      verifier: createReceiptVerifier(createReceiptSigner(kit.config.secrets.signingKeys).jwks, kit.config.publicUrl),
      window: { since: undefined, until: undefined },
      asOf: Date.now(),
    });

  it("the wrapper runs the command with a valid receipt, recording a line that reconciles; never twice", async () => {
    const first = await countersigned("deploy.production", approved.receipt);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.ran, "the command ran");
    assert.match(first.stderr, new RegExp(`^approved by ${alice.userId} \\(${approved.id}\\); recorded in `));
    const lines = readFileSync(join(dir, "actions.jsonl"), "utf8").trimEnd().split("\n");
    assert.equal(lines.length, 1);
    const recorded = JSON.parse(lines[0] as string);
    assert.equal(recorded.receipt, approved.receipt);
    assert.equal(recorded.request_id, approved.id);
    assert.equal(recorded.action_type, "deploy.production");
    assert.equal(recorded.display_payload_hash, approved.displayPayloadHash, "the script recomputed dph");
    assert.ok(Math.abs(Date.parse(recorded.executed_at) - Date.now()) < 60_000);

    const report = await reconcile(lines);
    assert.deepEqual(report.findings, []);
    assert.equal(report.counts.reconciled, 1);

    const again = await countersigned("deploy.production", approved.receipt);
    assert.equal(again.code, 1);
    assert.equal(again.ran, false);
    assert.equal(again.stderr.trim(), `refused: ${approved.id} was already executed`);
  });

  it("the wrapper refuses another action type, another display, another commit, a forged receipt and no receipt", async () => {
    const migrate = await approveAction(kit, alice, agent, "db.migrate");
    const refusals: [Promise<{ code: number; stderr: string; ran: boolean }>, string][] = [
      [
        countersigned("deploy.production", migrate.receipt),
        "refused: the receipt approves db.migrate, not deploy.production",
      ],
      [countersigned("db.migrate", migrate.receipt), "refused: the display payload is not the one the person approved"],
      [
        countersigned("deploy.production", approved.receipt, { COUNTERSIGN_EXPECT_CONTEXT: '{"commit":"ffffff"}' }),
        'refused: the approved commit is "a1b2c3", not "ffffff"',
      ],
      [
        countersigned("deploy.production", approved.receipt, { COUNTERSIGN_AGENT_ID: "agt_another" }),
        "refused: the receipt does not verify (ERR_JWT_CLAIM_VALIDATION_FAILED)",
      ],
      [countersigned("deploy.production", ""), "refused: the receipt does not verify (ERR_JWS_INVALID)"],
    ];
    const { privateKey } = await generateKeyPair("EdDSA");
    const forged = await new SignJWT({
      act: "deploy.production",
      dph: approved.displayPayloadHash,
      amr: ["hwk", "user"],
    })
      .setProtectedHeader({ alg: "EdDSA", typ: RECEIPT_TYPE, kid: kit.config.secrets.signingKeys[0]?.kid as string })
      .setIssuer(kit.config.publicUrl)
      .setSubject(alice.userId)
      .setAudience(agent.id)
      .setJti("apr_forged00000000000000000")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(privateKey);
    refusals.push([
      countersigned("deploy.production", forged),
      "refused: the receipt does not verify (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)",
    ]);
    for (const [pending, message] of refusals) {
      const result = await pending;
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stderr.trim(), message);
      assert.equal(result.ran, false, message);
    }
    const usage = await promisify(execFile)(join(dir, "countersigned"), ["deploy.production"], { cwd: dir }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal((usage as { code: number }).code, 2);
  });

  it("the CloudTrail jq filter maps the deploy calls, and the one without a source identity does not reconcile", {
    skip: !hasJq && "jq is not installed",
  }, async () => {
    const trail = join(dir, "cloudtrail");
    mkdirSync(join(trail, "trail"), { recursive: true });
    const second = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    const event = (fields: Record<string, unknown>) => ({
      eventVersion: "1.09",
      eventSource: "ecs.amazonaws.com",
      eventName: "UpdateService",
      awsRegion: "eu-west-1",
      sourceIPAddress: "203.0.113.7",
      eventID: crypto.randomUUID(),
      eventTime: second(approved.issuedAt + 30_000),
      ...fields,
    });
    const assumed = (sourceIdentity: string) => ({
      type: "AssumedRole",
      arn: `arn:aws:sts::123456789012:assumed-role/deployer/${sourceIdentity}`,
      sessionContext: { sourceIdentity, sessionIssuer: { type: "Role", userName: "deployer" } },
    });
    const records = [
      event({ userIdentity: assumed(approved.id) }),
      event({ userIdentity: { type: "IAMUser", arn: "arn:aws:iam::123456789012:user/ops" } }),
      event({ eventName: "DescribeServices", userIdentity: assumed(approved.id) }),
      event({ userIdentity: assumed(approved.id), errorCode: "AccessDeniedException" }),
    ];
    writeFileSync(
      join(trail, "trail", "123456789012_CloudTrail_eu-west-1_20261121T1205Z_a.json.gz"),
      gzipSync(JSON.stringify({ Records: records })),
    );
    const run = spawnSync("sh", ["-c", example("cloudtrail-jq", "sh")], { cwd: trail, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const lines = readFileSync(join(trail, "actions.jsonl"), "utf8").trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      [
        {
          request_id: approved.id,
          action_type: "deploy.production",
          executed_at: second(approved.issuedAt + 30_000),
          event_id: records[0]?.eventID,
          principal: `arn:aws:sts::123456789012:assumed-role/deployer/${approved.id}`,
          source_ip: "203.0.113.7",
        },
        {
          request_id: null,
          action_type: "deploy.production",
          executed_at: second(approved.issuedAt + 30_000),
          event_id: records[1]?.eventID,
          principal: "arn:aws:iam::123456789012:user/ops",
          source_ip: "203.0.113.7",
        },
      ],
    );
    const report = await reconcile(lines);
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.line, f.action?.principal]),
      [["NO_APPROVAL", 2, "arn:aws:iam::123456789012:user/ops"]],
    );
    assert.equal(report.counts.reconciled, 1);
  });
});
