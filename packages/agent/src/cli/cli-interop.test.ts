import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exportEd25519PrivateJwk, generateEd25519KeyPair } from "@countersign/protocol";
import { createVerifier, httpbis } from "http-message-signatures";
import { agentKeyId } from "../client/agent-key-id.ts";
import type { AgentKeyFile } from "../key-file/agent-key-file.ts";
import { writeKeyFile } from "../key-file/write-key-file.ts";
import { spawnCli } from "../test-support/cli-process.ts";

interface Captured {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

const APPROVAL = {
  id: "apr_AAAAAAAAAAAAAAAAAAAAAA",
  status: "pending",
  reason: null,
  action_type: "deploy.production",
  number_match: "042917",
  display_payload_hash: `sha256:${"ab".repeat(32)}`,
  created_at: "2026-11-21T12:00:00.000Z",
  expires_at: "2026-11-21T12:05:00.000Z",
  expires_in: 300,
  interval: 5,
  decided_at: null,
  receipt: null,
};

// DESIGN §4.1: the CLI's requests verify with an independent RFC 9421 implementation
// (dhensby/node-http-message-signatures), which knows nothing of our code.
describe("the CLI's requests, verified by http-message-signatures", () => {
  const captured: Captured[] = [];
  let url: string;
  let key: AgentKeyFile;
  let dir: string;
  let server: ReturnType<typeof createServer>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cs-interop-"));
    const { privateKey } = await generateEd25519KeyPair({ extractable: true });
    const jwk = await exportEd25519PrivateJwk(privateKey);
    server = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(", ") : String(value),
        ]),
      );
      captured.push({ method: req.method ?? "", url: req.url ?? "", headers, body: Buffer.concat(chunks) });
      const answer =
        req.url === "/v1/agent/whoami"
          ? {
              agent_id: "agt_BBBBBBBBBBBBBBBBBBBBBB",
              name: "Interop",
              auth_mode: "signed",
              verified: true,
              allowed_actions: [],
            }
          : APPROVAL;
      res
        .writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json" })
        .end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    key = { ...jwk, kid: agentKeyId(jwk.x), agent_id: "agt_BBBBBBBBBBBBBBBBBBBBBB", server: url };
    await writeKeyFile(join(dir, "key.json"), key);
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function verify(request: Captured, fields: string[]): Promise<boolean | null> {
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: key.x }, format: "jwk" });
    return httpbis.verifyMessage(
      {
        keyLookup: async (params: { keyid?: unknown }) =>
          params.keyid === key.kid
            ? { id: key.kid, algs: ["ed25519"], verify: createVerifier(publicKey, "ed25519") }
            : null,
        requiredFields: fields,
        requiredParams: ["created", "nonce", "keyid", "alg", "tag"],
        maxAge: 300,
      },
      { method: request.method, url: `${url}${request.url}`, headers: request.headers },
    );
  }

  it("signs a GET over method, authority, path and query", async () => {
    const cli = spawnCli(["whoami", "--key-file", join(dir, "key.json")]);
    assert.equal(await cli.exit, 0, cli.stderr());
    const request = captured.find((r) => r.url === "/v1/agent/whoami");
    assert.ok(request);
    assert.match(request.headers["signature-input"] ?? "", /tag="countersign"/);
    assert.equal(await verify(request, ["@method", "@authority", "@path", "@query"]), true);
    const tampered = { ...request, url: "/v1/agent/whoami?x=1" };
    assert.equal(await verify(tampered, ["@method", "@authority", "@path", "@query"]), false);
  });

  it("signs a POST over its Content-Digest and Idempotency-Key, and the digest is the body's", async () => {
    const cli = spawnCli([
      "request",
      "--key-file",
      join(dir, "key.json"),
      "--action",
      "deploy.production",
      "--title",
      "Deploy",
    ]);
    assert.equal(await cli.exit, 0, cli.stderr());
    const request = captured.find((r) => r.method === "POST");
    assert.ok(request);
    const fields = ["@method", "@authority", "@path", "@query", "content-digest", "idempotency-key"];
    assert.equal(await verify(request, fields), true);
    const digest = createHash("sha256").update(request.body).digest("base64");
    assert.equal(request.headers["content-digest"], `sha-256=:${digest}:`);
    assert.deepEqual(JSON.parse(request.body.toString()), { action_type: "deploy.production", title: "Deploy" });
    const replaced = { ...request, headers: { ...request.headers, "idempotency-key": "another" } };
    assert.equal(await verify(replaced, fields), false);
  });
});
