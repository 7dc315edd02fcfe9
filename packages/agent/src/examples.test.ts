import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { verifyReceipt } from "./receipts/verify-receipt.ts";
import { type AgentTestWorld, createAgentTestWorld } from "./test-support/agent-test-world.ts";
import { runCliToEnd } from "./test-support/cli-harness.ts";
import { CLI_BIN } from "./test-support/cli-process.ts";

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));

interface Run {
  child: ChildProcess;
  exit: Promise<number>;
  out(): string;
  err(): string;
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
}

function run(command: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk;
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk;
  });
  const exit = new Promise<number>((resolve) => child.once("close", (code) => resolve(code ?? -1)));
  return {
    child,
    exit,
    out: () => out,
    err: () => err,
    async waitFor(pattern) {
      for (let i = 0; i < 300; i += 1) {
        const match = err.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`${pattern} never appeared:\n${err}`);
    },
  };
}

// The examples in examples/, run as written against the real server.
describe("examples", () => {
  let world: AgentTestWorld;
  let env: Record<string, string>;

  before(async () => {
    // The server's clock is a test clock; the other process signs with the real one.
    world = await createAgentTestWorld({ startAt: Date.now() });
    const keyFile = join(world.dir, "agent-key.json");
    env = {
      COUNTERSIGN_KEY_FILE: keyFile,
      COUNTERSIGN_AGENT: `${process.execPath} ${CLI_BIN}`,
      // The test server's public URL (the receipts' issuer) is not its API address.
      COUNTERSIGN_ISSUER: world.kit.config.publicUrl,
    };
    const enrolled = await runCliToEnd(["enroll", "--server", world.server, "--code", await world.enrollmentCode()], {
      env,
      cwd: world.dir,
    });
    assert.equal(enrolled.code, 0, enrolled.stderr);
  });
  after(() => world.close());

  it("deploy-with-approval.sh deploys once approved, and deploy.sh alone refuses without a receipt", async () => {
    const deploy = run("sh", [join(EXAMPLES, "deploy-with-approval.sh"), "v2.3.1"], env);
    const shown = await deploy.waitFor(/Number: (\d{3}) (\d{3}) .*?(apr_[A-Za-z0-9_-]{22})/);
    await world.decide(shown[3] ?? "", `${shown[1]}${shown[2]}`);
    assert.equal(await deploy.exit, 0, deploy.err());
    assert.match(deploy.out(), /Deployed api v2\.3\.1\./);

    const alone = run("sh", [join(EXAMPLES, "deploy.sh"), "v2.3.1"], env);
    assert.equal(await alone.exit, 77, alone.err());
    assert.doesNotMatch(alone.out(), /Deployed/);
  });

  it("node-agent.ts acts only once approved, with a receipt, and exits 1 on rejection", async () => {
    const approved = run(process.execPath, [join(EXAMPLES, "node-agent.ts"), "sessions"], env);
    const shown = await approved.waitFor(/typing (\d{6}) \(request (apr_[A-Za-z0-9_-]{22})\)/);
    await world.decide(shown[2] ?? "", shown[1] ?? "");
    assert.equal(await approved.exit, 0, approved.err());
    const result = JSON.parse(approved.out());
    assert.equal(result.dropped, "sessions");
    await verifyReceipt(result.receipt, {
      jwksUrl: new URL("/.well-known/jwks.json", world.server),
      issuer: world.kit.config.publicUrl,
      actionType: "db.migrate",
      currentDate: new Date(world.kit.clock.now()),
    });

    const rejected = run(process.execPath, [join(EXAMPLES, "node-agent.ts"), "users"], env);
    const asked = await rejected.waitFor(/\(request (apr_[A-Za-z0-9_-]{22})\)/);
    await world.decide(asked[1] ?? "", null, "reject");
    assert.equal(await rejected.exit, 1, rejected.err());
    assert.equal(rejected.out(), "");
  });
});
