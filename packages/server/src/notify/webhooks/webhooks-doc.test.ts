import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { exportEd25519PrivateJwk, generateEd25519KeyPair, utf8 } from "@countersign/protocol";
import { createManualClock } from "../../../test-support/manual-clock.ts";
import { createTestConfig } from "../../../test-support/test-app.ts";
import { describeEachDatabase } from "../../../test-support/test-database.ts";
import type { SigningJwk } from "../../config/config.ts";
import { insertTestApproval, publicJwk } from "./test-support/webhook-fixtures.ts";
import { createWebhookDispatcher } from "./webhook-dispatcher.ts";
import { enqueueWebhook } from "./webhook-outbox.ts";
import { createWebhookSigner } from "./webhook-signer.ts";
import { createWebhookTransport } from "./webhook-transport.ts";

const REPO = fileURLToPath(new URL("../../../../../", import.meta.url));
const GUIDE = join(REPO, "docs/webhooks.md");
const MARKER = "<!-- example: webhook-receiver -->";

/** The receiver exactly as docs/webhooks.md shows it. */
function exampleScript(): string {
  const guide = readFileSync(GUIDE, "utf8");
  const start = guide.indexOf(MARKER);
  assert.notEqual(start, -1, "the guide has the example");
  const match = /```js\n([\s\S]*?)```/.exec(guide.slice(start));
  assert.ok(match?.[1]);
  return match[1];
}

/** Every line a child process prints, and a way to wait for the n-th. */
function lineCollector(child: ChildProcessWithoutNullStreams) {
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout });
  reader.on("line", (line) => lines.push(line));
  const closed = once(reader, "close");
  return {
    lines,
    closed,
    async line(index: number): Promise<string> {
      while (lines.length <= index) await Promise.race([once(reader, "line"), closed]);
      return lines[index] as string;
    },
  };
}

describeEachDatabase("the webhooks guide's receiver", (ctx) => {
  const config = createTestConfig();
  const signingKey = config.secrets.signingKeys[0] as SigningJwk;
  let jwks: Server;
  let receiver: ChildProcessWithoutNullStreams;
  let output: ReturnType<typeof lineCollector>;
  let port: number;
  const stderr: string[] = [];

  before(async () => {
    // The JWKS as /.well-known/jwks.json publishes it: public parts only.
    jwks = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [{ ...publicJwk(signingKey), alg: "EdDSA", use: "sig" }] }));
    });
    jwks.listen(0, "127.0.0.1");
    await once(jwks, "listening");
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    receiver = spawn(process.execPath, ["--input-type=module", "--eval", exampleScript()], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? "",
        COUNTERSIGN_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
        PORT: String(port),
      },
    });
    receiver.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
    output = lineCollector(receiver);
    assert.equal(await output.line(0), "listening", stderr.join(""));
  });
  after(async () => {
    receiver.kill();
    jwks.close();
  });

  it("verifies a real webhook with the JWKS, acts on it once, and refuses a forgery", async () => {
    // The script verifies against the real time.
    const clock = createManualClock(Date.now());
    const approval = await insertTestApproval(ctx.db, { callbackUrl: `http://127.0.0.1:${port}/countersign?tenant=7` });
    const id = await ctx.db.transaction((tx) => enqueueWebhook(tx, approval, new Date(clock.now())));
    const dispatcher = createWebhookDispatcher({ db: ctx.db, config, signingKey, clock });

    assert.equal(await dispatcher.runOnce(), 1);
    const event = JSON.parse(await output.line(1));
    assert.equal(event.delivery_id, id);
    assert.equal(event.type, "approval.approved");
    assert.equal(event.receipt, approval.receipt);
    const status = async () =>
      (
        await ctx.db.query<{ status: string; last_status: number }>(
          "SELECT status, last_status FROM webhook_deliveries WHERE id = $1",
          [id],
        )
      ).rows[0];
    assert.deepEqual(await status(), { status: "delivered", last_status: 204 });

    // Sent again (as after a lost 2xx): answered 2xx, not acted on twice.
    await ctx.db.query(
      `UPDATE webhook_deliveries SET status = 'pending', delivered_at = NULL, next_attempt_at = $2 WHERE id = $1`,
      [id, new Date(clock.now())],
    );
    assert.equal(await dispatcher.runOnce(), 1);
    assert.deepEqual(await status(), { status: "delivered", last_status: 204 });

    // The same kid, another private key: refused.
    const { privateKey } = await generateEd25519KeyPair({ extractable: true });
    const forger = createWebhookSigner({ ...(await exportEd25519PrivateJwk(privateKey)), kid: signingKey.kid });
    const url = new URL(`http://127.0.0.1:${port}/countersign?tenant=7`);
    const body = utf8(JSON.stringify({ type: "approval.approved", delivery_id: "whd_forged" }));
    const headers = await forger.headers({
      url,
      body,
      deliveryId: "whd_forged",
      eventType: "approval.approved",
      created: Math.floor(Date.now() / 1000),
    });
    const send = createWebhookTransport({ allowLoopback: true });
    assert.deepEqual(await send({ url, headers, body, timeoutMs: 5_000 }), { ok: true, status: 401 });

    // Nothing was printed for the repeat or the forgery.
    receiver.kill();
    await output.closed;
    assert.equal(output.lines.length, 2, output.lines.join("\n"));
  });
});
