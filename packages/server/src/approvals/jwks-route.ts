import type { FastifyInstance } from "fastify";
import { JwksSchema } from "./approval-schemas.ts";
import type { ReceiptSigner } from "./receipt-signer.ts";

/**
 * `/.well-known/jwks.json` (RFC 7517 §5): the public keys that verify receipts and webhooks, on
 * both hosts, cacheable for five minutes so verifiers need not fetch it per receipt. A rotated-in
 * key must be listed here before it signs (docs/security.md).
 */
export function registerJwksRoute(app: FastifyInstance, receipts: Pick<ReceiptSigner, "jwks">): void {
  app.get(
    "/.well-known/jwks.json",
    {
      config: { surface: "any" },
      schema: { tags: ["receipts"], summary: "Receipt and webhook verification keys", response: { 200: JwksSchema } },
    },
    async (_request, reply) => {
      reply.header("cache-control", "public, max-age=300");
      return receipts.jwks;
    },
  );
}
