import { CountersignError, fromBase64Url, importEd25519PublicKey, toBase64Url } from "@countersign/protocol";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { createAgentAuthDeps } from "../agent-auth/agent-auth-deps.ts";
import { recordAgentRefusal, toAgentRequest } from "../agent-auth/agent-auth-hook.ts";
import type { ResolvedAgentKey } from "../agent-auth/agent-request.ts";
import { runAgentRequestPipeline, SIGNATURE_CHECKS } from "../agent-auth/agent-request-pipeline.ts";
import type { AppServices } from "../app-services.ts";
import { agentKeyId } from "./agent-key-id.ts";
import { EnrollBodySchema, EnrollResponseSchema, ErrorRef } from "./agent-schemas.ts";

/**
 * `POST /v1/agents/enroll` (DESIGN §4.3): an agent binds the Ed25519 public key it generated
 * to the agent an enrolment code names. The private key never leaves the agent.
 *
 * Proof of possession: the request is signed under the Countersign RFC 9421 profile with the
 * key being enrolled, and `keyid` is that key's RFC 7638 thumbprint — the key id it will use
 * from now on, which the agent computes itself. The signature is verified with the key from
 * the body and nothing else, through the same host → digest → signature → window → nonce checks
 * as every agent request, so a captured enrolment cannot be replayed and a key cannot be
 * enrolled by someone who does not hold it. The code is consumed only after all of that.
 *
 * No Idempotency-Key is needed: the code makes the call single use, and an agent whose answer
 * was lost already knows its key id and can call `GET /v1/agent/whoami` to learn its agent id.
 */
export function registerAgentEnrollRoute(
  app: FastifyInstance,
  services: Pick<AppServices, "config" | "db" | "clock" | "agents" | "auditSink" | "metrics">,
): void {
  const deps = createAgentAuthDeps(services);
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    "/v1/agents/enroll",
    {
      config: { surface: "api" },
      schema: {
        tags: ["agents"],
        summary: "Enrol the agent's public key with a one-time code (signed with that key)",
        security: [{ agentSignature: [] }],
        body: EnrollBodySchema,
        response: { 200: EnrollResponseSchema, 400: ErrorRef, 401: ErrorRef, 409: ErrorRef, 421: ErrorRef },
      },
    },
    async (request) => {
      const raw = fromBase64Url(request.body.public_key);
      // Canonical encoding only, so one key has one spelling and one thumbprint.
      if (raw?.length !== 32 || toBase64Url(raw) !== request.body.public_key) throw invalidKey();
      const publicKey = await importEd25519PublicKey(raw);
      if (publicKey === null) throw invalidKey();
      const keyId = agentKeyId(raw);
      const proof: ResolvedAgentKey = { publicKey, credentialsVersion: 0, agent: null };
      const state = {};
      try {
        await runAgentRequestPipeline(
          toAgentRequest(request),
          { ...deps, resolveKey: async (id) => (id === keyId ? proof : null) },
          SIGNATURE_CHECKS,
          state,
        );
      } catch (error) {
        await recordAgentRefusal(request, deps, error, state);
        throw error;
      }
      const enrolled = await services.agents.enroll({
        code: request.body.code,
        publicKey: raw,
        keyId,
        ip: request.ip,
        requestId: request.id,
      });
      return {
        agent_id: enrolled.agentId,
        key_id: enrolled.keyId,
        api_base_url: services.config.apiBaseUrl,
        auth_mode: "signed" as const,
        credentials_version: enrolled.credentialsVersion,
        e2e: enrolled.e2e,
      };
    },
  );
}

function invalidKey(): CountersignError {
  return new CountersignError("validation_failed", {
    message: "public_key must be a 32-byte Ed25519 public key, base64url without padding.",
  });
}
