import { generateKeyPairSync, sign, verify } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";

/** The floor the benchmarks compare against: a bare Fastify route that verifies one Ed25519 signature. */
export interface BareVerifyServer {
  readonly app: FastifyInstance;
  /** Header to add to every request so the bare route has a genuine signature to verify. */
  readonly header: { readonly "x-bench-signature": string };
}

/**
 * Starts the floor on `port`: every GET or POST to `path` verifies one Ed25519 signature over a
 * 300-byte message (about the size of a signature base) with node:crypto's thread-pool verify,
 * as the agent pipeline does (DESIGN §4.12), and answers `{}`. Nothing else: no database, no
 * parsing beyond Fastify's own.
 */
export async function startBareVerifyServer(port: number, path: string): Promise<BareVerifyServer> {
  const keys = generateKeyPairSync("ed25519");
  const message = Buffer.alloc(300, 7);
  const signature = sign(null, message, keys.privateKey).toString("base64");
  const app = Fastify({ logger: false });
  const handler = (
    request: { headers: Record<string, unknown> },
    reply: { code(n: number): { send(b: unknown): void }; send(b: unknown): void },
  ) => {
    const presented = Buffer.from(String(request.headers["x-bench-signature"]), "base64");
    verify(null, message, keys.publicKey, presented, (error, ok) => {
      if (error || !ok) reply.code(401).send({ error: "invalid" });
      else reply.send({});
    });
  };
  app.get(path, handler);
  app.post(path, handler);
  await app.listen({ host: "127.0.0.1", port });
  return { app, header: { "x-bench-signature": signature } };
}
