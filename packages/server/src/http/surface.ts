/**
 * Which host a route answers on (T-11). `app` routes answer only on the configured app host,
 * `api` routes only on the API host, `any` on both (health checks, the OpenAPI document).
 */
export type Surface = "app" | "api" | "any";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Required on every route: the host constraint is not opt-in. */
    surface?: Surface;
    /** Runs the agent-request verification pipeline before the handler (DESIGN §4.1). */
    agentAuth?: boolean;
    /**
     * With `agentAuth`: called once the agent is authenticated, before its Idempotency-Key is
     * claimed, to start the reads the handler will need, so that they overlap the claim's round
     * trip. It may only start reads: the claim may still answer the request from storage.
     */
    afterAgentAuth?: (request: FastifyRequest) => void;
    /** Loads the session into `request.session` (`"step-up"`: and needs a fresh passkey); src/sessions. */
    auth?: "session" | "step-up";
    /** Holds every response, errors included, to `config.auth.minDurationMs`; src/auth-guards. */
    authFloor?: boolean;
  }
}
