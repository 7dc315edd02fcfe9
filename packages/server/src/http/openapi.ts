import swagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { ErrorBodySchema } from "./error-body-schema.ts";

/**
 * Generates the OpenAPI 3.1 document from the route schemas and serves it at `/openapi.json`.
 * Must be registered before the routes it describes.
 */
export async function registerOpenApi(app: FastifyInstance, options: { publicUrl: string; version: string }) {
  app.addSchema(ErrorBodySchema);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Countersign",
        version: options.version,
        description:
          "Approve what your agents do, from your phone. Agent routes are signed per the Countersign RFC 9421 " +
          "profile; person-facing routes use a session cookie.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      servers: [{ url: options.publicUrl }],
      components: {
        securitySchemes: {
          agentSignature: {
            type: "apiKey",
            in: "header",
            name: "Signature",
            description: "RFC 9421 HTTP Message Signature with label `cs` (see docs/agent-integration.md).",
          },
          agentBearer: {
            type: "http",
            scheme: "bearer",
            description: "Bearer-only agents (`cs_agt_…`), only where COUNTERSIGN_BEARER_ONLY_ALLOWED=true.",
          },
          sessionCookie: {
            type: "apiKey",
            in: "cookie",
            name: "__Host-cs_session",
            description: "The approver's session (docs/security.md, Sessions); state-changing calls also need Origin.",
          },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.get("/openapi.json", { config: { surface: "any" }, schema: { hide: true } }, async () => app.swagger());
}
