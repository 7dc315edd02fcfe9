import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { CountersignError } from "@countersign/protocol";
import { verifyReceipt } from "../receipts/verify-receipt.ts";
import { type AgentTestWorld, createAgentTestWorld } from "../test-support/agent-test-world.ts";
import { verifyWebhook, type WebhookRequestLike } from "./verify-webhook.ts";

// A real webhook: the server's dispatcher signs and sends it when a request ends.
describe("verifyWebhook", () => {
  let world: AgentTestWorld;
  let receiver: ReturnType<typeof createServer>;
  let hookUrl: string;
  const received: WebhookRequestLike[] = [];
  let arrived: () => void = () => {};

  before(async () => {
    world = await createAgentTestWorld();
    receiver = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      received.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(204).end();
      arrived();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/countersign?tenant=7`;
  });
  after(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await world.close();
  });

  it("verifies the webhook of an approval and returns the event, whose receipt verifies", async () => {
    const client = await world.clientFor(await world.newAgent());
    const webhook = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const pending = await client.requestApproval({
      actionType: "deploy.production",
      title: "Deploy",
      callbackUrl: hookUrl,
    });
    await world.decide(pending.id, pending.numberMatch);
    await webhook;
    const request = received.at(-1);
    assert.ok(request);
    const jwksUrl = new URL("/.well-known/jwks.json", world.server);
    const now = Math.floor(world.kit.clock.now() / 1000);

    const event = await verifyWebhook(request, { jwksUrl, now });
    assert.equal(event.type, "approval.approved");
    assert.equal(event.approvalId, pending.id);
    assert.equal(event.displayPayloadHash, pending.displayPayloadHash);
    assert.match(event.deliveryId, /^whd_/);
    assert.ok(event.receipt);
    await verifyReceipt(event.receipt, {
      jwksUrl,
      issuer: world.kit.config.publicUrl,
      actionType: "deploy.production",
      displayPayloadHash: pending.displayPayloadHash,
      currentDate: new Date(world.kit.clock.now()),
    });

    // The Fetch API form gives the same event.
    const asFetch = new Request(
      `http://${request.headers instanceof Headers ? "" : request.headers.host}${request.url}`,
      {
        method: "POST",
        headers: Object.entries(request.headers as Record<string, string>),
        body: request.body as Uint8Array<ArrayBuffer>,
      },
    );
    assert.equal((await verifyWebhook(asFetch, { jwksUrl, now })).deliveryId, event.deliveryId);

    const code = (e: unknown) => (e instanceof CountersignError ? e.code : String(e));
    const body = Buffer.from(request.body as Uint8Array);
    const tampered = { ...request, body: Buffer.from(body.toString().replace("approved", "rejected")) };
    await assert.rejects(verifyWebhook(tampered, { jwksUrl, now }), (e) => code(e) === "digest_mismatch");
    await assert.rejects(
      verifyWebhook(request, { jwksUrl, now, authority: "hooks.example.com" }),
      (e) => code(e) === "invalid_signature",
    );
    await assert.rejects(
      verifyWebhook({ ...request, url: "/hooks/other?tenant=7" }, { jwksUrl, now }),
      (e) => code(e) === "invalid_signature",
    );
    await assert.rejects(verifyWebhook(request, { jwksUrl, now: now + 600 }), (e) => code(e) === "signature_expired");
    await assert.rejects(verifyWebhook(request, { jwks: { keys: [] }, now }), (e) => code(e) === "invalid_signature");
  });
});
