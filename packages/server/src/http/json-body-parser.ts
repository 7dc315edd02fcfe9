import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import secureJsonParse from "secure-json-parse";

declare module "fastify" {
  interface FastifyRequest {
    /** The exact body bytes, for Content-Digest verification (RFC 9530) of agent requests. */
    rawBody?: Uint8Array;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Accepts JSON bodies only (every other media type gets 415), keeps the raw bytes for digest
 * checks, refuses invalid UTF-8, and refuses `__proto__`/`constructor.prototype` keys rather
 * than stripping them. JSON-only bodies are one of the CSRF defenses of DESIGN §4.9.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      const text = utf8.decode(bytes);
      done(null, secureJsonParse.parse(text, undefined, { protoAction: "error", constructorAction: "error" }));
    } catch (cause) {
      done(new CountersignError("invalid_json", { cause }), undefined);
    }
  });
}
