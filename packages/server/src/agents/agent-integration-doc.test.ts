import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { type AgentTestKit, createAgentTestKit } from "./test-support/agent-test-kit.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const GUIDE = join(REPO, "docs/agent-integration.md");
const MARKER = "<!-- example: enroll-and-whoami -->";

/** The script exactly as docs/agent-integration.md shows it. */
function exampleScript(): string {
  const guide = readFileSync(GUIDE, "utf8");
  const start = guide.indexOf(MARKER);
  assert.notEqual(start, -1, "the guide has the example");
  const match = /```js\n([\s\S]*?)```/.exec(guide.slice(start));
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

describeEachDatabase("the agent integration guide's script", (ctx) => {
  let kit: AgentTestKit;
  let dir: string;

  before(async () => {
    const port = await freePort();
    kit = await createAgentTestKit(ctx.db, { env: { COUNTERSIGN_PUBLIC_URL: `http://127.0.0.1:${port}` } });
    // The script signs with the real time.
    kit.clock.set(Date.now());
    await kit.app.listen({ host: "127.0.0.1", port });
    dir = mkdtempSync(join(tmpdir(), "cs-agent-doc-"));
  });
  after(async () => {
    await kit.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is at most 30 lines and uses only @countersign/protocol and Node", () => {
    const script = exampleScript();
    assert.ok(script.trimEnd().split("\n").length <= 30, `${script.split("\n").length} lines`);
    const imports = [...script.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(imports)].sort(), ["@countersign/protocol", "node:fs"]);
  });

  it("enrols with a code and calls whoami against a running server, keeping the private key local", async () => {
    const person = await kit.newPerson();
    const { id, code } = await kit.createAgent(person.cookie, { name: "Doc bot", allowed_actions: ["deploy.*"] });
    const keyFile = join(dir, "agent-key.json");
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "--eval", exampleScript()], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? "",
        COUNTERSIGN_API_URL: kit.config.apiBaseUrl,
        COUNTERSIGN_ENROLLMENT_CODE: code,
        COUNTERSIGN_KEY_FILE: keyFile,
      },
      timeout: 30_000,
    });
    const whoami = JSON.parse(stdout.trim());
    assert.equal(whoami.agent_id, id);
    assert.equal(whoami.auth_mode, "signed");
    assert.equal(whoami.verified, true);
    assert.deepEqual(whoami.allowed_actions, ["deploy.*"]);

    const jwk = JSON.parse(readFileSync(keyFile, "utf8"));
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(jwk.agent_id, id);
    assert.equal(jwk.kid, whoami.key_id);
    const stored = await ctx.db.query<{ public_key: Uint8Array }>(
      "SELECT public_key FROM agent_keys WHERE agent_id = $1",
      [id],
    );
    assert.equal(Buffer.from(stored.rows[0]?.public_key ?? []).toString("base64url"), jwk.x);
    const everything = JSON.stringify([
      (await ctx.db.query("SELECT * FROM agents")).rows,
      (await ctx.db.query("SELECT key_id, encode(public_key, 'base64') AS k FROM agent_keys")).rows,
    ]);
    assert.ok(!everything.includes(jwk.d), "the private key never reached the server");
  });
});
