import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type AgentTestWorld, createAgentTestWorld } from "../test-support/agent-test-world.ts";
import { spawnCli } from "../test-support/cli-process.ts";
import { EXIT } from "./exit-codes.ts";

const NUMBER = /Number: (\d{3}) (\d{3}) .*?(apr_[A-Za-z0-9_-]{22})/;

// The executable as a user runs it: its own process, the real clock, real exit codes and signals.
describe("the countersign-agent executable", () => {
  let world: AgentTestWorld;
  let env: Record<string, string>;

  before(async () => {
    // The server's clock is a test clock; the executable signs with the real one.
    world = await createAgentTestWorld({ startAt: Date.now() });
    env = { COUNTERSIGN_KEY_FILE: join(world.dir, "agent-key.json") };
  });
  after(() => world.close());

  it("walks through enrol, request, approve, exit code 0", async () => {
    const code = await world.enrollmentCode();
    const enroll = spawnCli(["enroll", "--server", world.server, "--code", code], { env });
    assert.equal(await enroll.exit, 0, enroll.stderr());
    assert.equal(statSync(env.COUNTERSIGN_KEY_FILE ?? "").mode & 0o777, 0o600);

    const request = spawnCli(["request", "--action", "deploy.production", "--title", "Deploy api v2.3.1", "--wait"], {
      env,
    });
    const shown = await request.waitForStderr(NUMBER);
    await world.decide(shown[3] ?? "", `${shown[1]}${shown[2]}`);
    assert.equal(await request.exit, EXIT.approved, request.stderr());
    assert.match(request.stdout().trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/, "the receipt, a compact JWS");
  });

  it("exec refuses to run the command when the person rejects", async () => {
    const marker = join(world.dir, "ran");
    const exec = spawnCli(["exec", "--action", "deploy.web", "--title", "Deploy web", "--", "touch", marker], { env });
    const shown = await exec.waitForStderr(NUMBER);
    await world.decide(shown[3] ?? "", null, "reject");
    assert.equal(await exec.exit, EXIT.rejected);
    assert.equal(existsSync(marker), false);
  });

  it("exec passes a SIGTERM on to the approved command and exits with its code", async () => {
    const marker = join(world.dir, "terminated");
    const script = `process.on("SIGTERM", () => { require("node:fs").writeFileSync(${JSON.stringify(marker)}, "bye"); process.exit(143); }); console.error("command started"); setTimeout(() => {}, 60000);`;
    const exec = spawnCli(
      ["exec", "--action", "deploy.long", "--title", "Long deploy", "--", process.execPath, "-e", script],
      {
        env,
      },
    );
    const shown = await exec.waitForStderr(NUMBER);
    await world.decide(shown[3] ?? "", `${shown[1]}${shown[2]}`);
    await exec.waitForStderr(/command started/);
    exec.child.kill("SIGTERM");
    assert.equal(await exec.exit, 143, exec.stderr());
    assert.equal(existsSync(marker), true);
  });

  it("Ctrl-C while waiting cancels the request and exits 3", async () => {
    const request = spawnCli(["request", "--action", "deploy.sigint", "--title", "Deploy", "--wait"], { env });
    const shown = await request.waitForStderr(NUMBER);
    request.child.kill("SIGINT");
    assert.equal(await request.exit, EXIT.canceled, request.stderr());
    const status = spawnCli(["status", shown[3] ?? "", "--json"], { env });
    assert.equal(await status.exit, EXIT.canceled);
    assert.equal(JSON.parse(status.stdout()).reason, "canceled_by_agent");
  });
});
