import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DisplayPayload } from "@countersign/protocol";
import { verifyReceipt } from "../receipts/verify-receipt.ts";
import { type AgentTestWorld, createAgentTestWorld } from "../test-support/agent-test-world.ts";
import { runCliToEnd, shownRequest, startCli } from "../test-support/cli-harness.ts";
import { EXIT } from "./exit-codes.ts";

describe("countersign-agent, in process, against the real server", () => {
  let world: AgentTestWorld;
  let keyFile: string;
  let io: { env: Record<string, string>; cwd: string; now: () => number };
  let agentId: string;
  let privateD: string;

  before(async () => {
    world = await createAgentTestWorld();
    keyFile = join(world.dir, "agent-key.json");
    io = { env: { COUNTERSIGN_KEY_FILE: keyFile }, cwd: world.dir, now: () => world.kit.clock.now() };
  });
  after(() => world.close());

  it("enroll makes the key here, saves it with mode 0600, and never prints it", async () => {
    const code = await world.enrollmentCode();
    const result = await runCliToEnd(["enroll", "--server", world.server, "--code", code], io);
    assert.equal(result.code, EXIT.approved, result.stderr);
    const stat = statSync(keyFile);
    assert.equal(stat.mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(keyFile, "utf8"));
    assert.match(saved.agent_id, /^agt_/);
    assert.equal(saved.server, world.server);
    assert.equal(typeof saved.d, "string");
    assert.ok(!result.stdout.includes(saved.d) && !result.stderr.includes(saved.d), "the private key is not printed");
    assert.match(result.stdout, new RegExp(saved.agent_id));
    agentId = saved.agent_id;
    privateD = saved.d;
  });

  it("enroll never overwrites a key file, and leaves nothing behind when the code is refused", async () => {
    const again = await runCliToEnd(["enroll", "--server", world.server, "--code", await world.enrollmentCode()], io);
    assert.equal(again.code, EXIT.error);
    assert.match(again.stderr, /already exists/);
    assert.equal(JSON.parse(readFileSync(keyFile, "utf8")).d, privateD, "the first key is untouched");

    const other = join(world.dir, "other-key.json");
    const refused = await runCliToEnd(
      ["enroll", "--server", world.server, "--code", "cs_enr_not-a-real-code", "--key-file", other],
      io,
    );
    assert.equal(refused.code, EXIT.error);
    assert.match(refused.stderr, /enrollment_code_invalid/);
    assert.equal(existsSync(other), false);
  });

  it("enroll keeps the new key when the answer never came, since the enrolment may have gone through", async () => {
    const path = join(world.dir, "interrupted-key.json");
    const controller = new AbortController();
    world.door.setMode("blackhole");
    try {
      const run = startCli(
        ["enroll", "--server", world.server, "--code", await world.enrollmentCode(), "--key-file", path],
        {
          ...io,
          signal: controller.signal,
        },
      );
      setTimeout(() => controller.abort(new Error("SIGINT")), 200);
      assert.equal(await run.exit, EXIT.error);
      assert.match(run.stderr(), /was kept/);
    } finally {
      world.door.setMode("pass");
    }
    const kept = JSON.parse(readFileSync(path, "utf8"));
    assert.equal(kept.server, world.server, "with the server, so whoami can check it");
    assert.equal(kept.agent_id, undefined);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it("whoami answers with the enrolled agent", async () => {
    const result = await runCliToEnd(["whoami", "--json"], io);
    assert.equal(result.code, EXIT.approved, result.stderr);
    const me = JSON.parse(result.stdout);
    assert.equal(me.agent_id, agentId);
    assert.equal(me.verified, true);
  });

  it("request shows the number large and prints the id; status exits 5 while open", async () => {
    const result = await runCliToEnd(
      ["request", "--action", "deploy.staging", "--title", "Deploy to staging", "--context", '{"commit":"a1b2c3"}'],
      io,
    );
    assert.equal(result.code, EXIT.approved, result.stderr);
    const id = result.stdout.trim();
    assert.match(id, /^apr_[A-Za-z0-9_-]{22}$/);
    const number = result.stderr.match(/Number: (\d{3}) (\d{3})/);
    assert.ok(number, result.stderr);
    assert.ok(result.stderr.includes("██████"), "in block digits");
    const status = await runCliToEnd(["status", id, "--json"], io);
    assert.equal(status.code, EXIT.open);
    assert.equal(JSON.parse(status.stdout).status, "pending");
    assert.equal((await runCliToEnd(["cancel", id], io)).code, EXIT.canceled);
  });

  it("request --wait exits 0 on approval and prints a receipt that verifies", async () => {
    const run = startCli(["request", "--action", "deploy.production", "--title", "Deploy api", "--wait"], io);
    const { id, number } = await shownRequest(run);
    await world.decide(id, number);
    assert.equal(await run.exit, EXIT.approved, run.stderr());
    const receipt = run.stdout().trim();
    const { claims } = await verifyReceipt(receipt, {
      jwksUrl: new URL("/.well-known/jwks.json", world.server),
      issuer: world.kit.config.publicUrl,
      audience: agentId,
      actionType: "deploy.production",
      currentDate: new Date(world.kit.clock.now()),
    });
    assert.equal(claims.jti, id);
    assert.match(run.stderr(), /Approved/);

    const status = await runCliToEnd(["status", id], io);
    assert.equal(status.code, EXIT.approved);
    assert.equal(status.stdout.trim(), receipt);
    const verified = await runCliToEnd(
      ["verify-receipt", receipt, "--action", "deploy.production", "--issuer", world.kit.config.publicUrl],
      io,
    );
    assert.equal(verified.code, EXIT.approved, verified.stderr);
    assert.equal(JSON.parse(verified.stdout).jti, id);
    const unchecked = await runCliToEnd(["verify-receipt", receipt, "--issuer", world.kit.config.publicUrl], io);
    assert.equal(unchecked.code, EXIT.approved, unchecked.stderr);
    assert.match(unchecked.stderr, /action type is not checked/);
    const forged = await runCliToEnd(["verify-receipt", `${receipt}x`, "--issuer", world.kit.config.publicUrl], io);
    assert.equal(forged.code, EXIT.rejected);
    const wrong = await runCliToEnd(
      ["verify-receipt", receipt, "--action", "deploy.staging", "--issuer", world.kit.config.publicUrl],
      io,
    );
    assert.equal(wrong.code, EXIT.rejected);
    assert.match(wrong.stderr, /action_not_allowed/);
  });

  it("request --wait exits 1 on rejection", async () => {
    const run = startCli(["request", "--action", "db.migrate", "--title", "Migrate", "--wait"], io);
    const { id } = await shownRequest(run);
    await world.decide(id, null, "reject");
    assert.equal(await run.exit, EXIT.rejected);
    assert.equal(run.stdout(), "", "no receipt");
    assert.match(run.stderr(), /Rejected/);
  });

  it("request --wait exits 2 on expiry, told apart from a rejection", async () => {
    const run = startCli(
      ["request", "--action", "deploy.expiring", "--title", "Deploy", "--ttl", "30", "--wait", "--json"],
      io,
    );
    await shownRequest(run);
    world.kit.clock.advance(31_000);
    await world.kit.services.approvals.expireDue();
    assert.equal(await run.exit, EXIT.expired);
    assert.equal(JSON.parse(run.stdout()).status, "expired");
    assert.match(run.stderr(), /Expired/);
  });

  it("request --wait exits 3 when the request is canceled", async () => {
    const run = startCli(["request", "--action", "deploy.canceled", "--title", "Deploy", "--wait"], io);
    const { id } = await shownRequest(run);
    assert.equal((await runCliToEnd(["cancel", id], io)).code, EXIT.canceled);
    assert.equal(await run.exit, EXIT.canceled);
  });

  it("Ctrl-C during request --wait cancels the request", async () => {
    const controller = new AbortController();
    const run = startCli(["request", "--action", "deploy.interrupted", "--title", "Deploy", "--wait"], {
      ...io,
      signal: controller.signal,
    });
    const { id } = await shownRequest(run);
    controller.abort(new Error("SIGINT"));
    assert.equal(await run.exit, EXIT.canceled, run.stderr());
    const status = await runCliToEnd(["status", id, "--json"], io);
    assert.equal(JSON.parse(status.stdout).reason, "canceled_by_agent");
  });

  it("exits 4 with the error code on an error, and on bad arguments", async () => {
    const refused = await runCliToEnd(["request", "--action", "payments.send", "--title", "Pay"], io);
    assert.equal(refused.code, EXIT.error);
    assert.match(refused.stderr, /action_not_allowed/);
    assert.match(refused.stderr, /request id/);
    const bad = await runCliToEnd(["request", "--title", "no action"], io);
    assert.equal(bad.code, EXIT.error);
    assert.match(bad.stderr, /--action TYPE is required/);
    const ttl = await runCliToEnd(["request", "--action", "deploy.x", "--title", "T", "--ttl", "5"], io);
    assert.equal(ttl.code, EXIT.error);
    assert.match(ttl.stderr, /validation_failed.*ttl_seconds/);
    assert.equal((await runCliToEnd(["frobnicate"], io)).code, EXIT.error);
  });

  describe("exec", () => {
    const script = (out: string, exitCode: number) => [
      process.execPath,
      "-e",
      `require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify({ receipt: process.env.COUNTERSIGN_RECEIPT, id: process.env.COUNTERSIGN_APPROVAL_ID, args: process.argv.slice(1) })); process.exit(${exitCode})`,
      "--",
      "v2.3.1",
    ];

    it("runs the command only once approved, with the receipt, and exits with its code", async () => {
      const out = join(world.dir, "exec-approved.json");
      const command = script(out, 7);
      const run = startCli(["exec", "--action", "deploy.exec", "--title", "Deploy v2.3.1", "--", ...command], io);
      const { id, number } = await shownRequest(run);
      assert.equal(existsSync(out), false, "not run before the decision");
      const shown = await world.kit.personCall(world.person, "GET", `/v1/me/approvals/${id}`);
      const display = shown.body.approval.display_payload as DisplayPayload;
      assert.deepEqual(display.context.command, command, "the person sees the exact command");
      await world.decide(id, number);
      assert.equal(await run.exit, 7, run.stderr());
      const ran = JSON.parse(readFileSync(out, "utf8"));
      assert.equal(ran.id, id);
      assert.deepEqual(ran.args, ["v2.3.1"]);
      const { claims } = await verifyReceipt(ran.receipt, {
        jwksUrl: new URL("/.well-known/jwks.json", world.server),
        issuer: world.kit.config.publicUrl,
        actionType: "deploy.exec",
        displayPayload: display,
        currentDate: new Date(world.kit.clock.now()),
      });
      assert.equal(claims.jti, id);
    });

    it("refuses to run the command on rejection", async () => {
      const out = join(world.dir, "exec-rejected.json");
      const run = startCli(["exec", "--action", "deploy.exec2", "--title", "Deploy", "--", ...script(out, 0)], io);
      const { id } = await shownRequest(run);
      await world.decide(id, null, "reject");
      assert.equal(await run.exit, EXIT.rejected);
      assert.equal(existsSync(out), false);
      assert.match(run.stderr(), /was not run/);
    });

    it("refuses to run the command on expiry", async () => {
      const out = join(world.dir, "exec-expired.json");
      const run = startCli(
        ["exec", "--action", "deploy.exec3", "--title", "Deploy", "--ttl", "30", "--", ...script(out, 0)],
        io,
      );
      await shownRequest(run);
      world.kit.clock.advance(31_000);
      await world.kit.services.approvals.expireDue();
      assert.equal(await run.exit, EXIT.expired);
      assert.equal(existsSync(out), false);
    });

    it("refuses to reuse an open request for the same action type, which may be for another command", async () => {
      const open = await runCliToEnd(["request", "--action", "deploy.exec4", "--title", "Something else"], io);
      assert.equal(open.code, EXIT.approved);
      const out = join(world.dir, "exec-reuse.json");
      const run = await runCliToEnd(
        ["exec", "--action", "deploy.exec4", "--title", "Deploy", "--", ...script(out, 0)],
        io,
      );
      assert.equal(run.code, EXIT.error);
      assert.match(run.stderr, /already open/);
      assert.doesNotMatch(run.stderr, /Number:/, "the other request's number is not shown");
      assert.equal(existsSync(out), false);
      await runCliToEnd(["cancel", open.stdout.trim()], io);
    });
  });
});
