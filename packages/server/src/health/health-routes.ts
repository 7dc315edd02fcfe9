import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { Database } from "../db/database.ts";
import { MIGRATIONS_DIR, migrationStatus } from "../db/migrate.ts";

const StatusSchema = Type.Object({ status: Type.Literal("ok") });

/**
 * `/healthz`: the process is up (liveness). `/readyz`: the database answers and every migration
 * is applied with an unchanged checksum (readiness); otherwise 503 `service_unavailable`.
 */
export function registerHealthRoutes(app: FastifyInstance, deps: { db: Database }): void {
  app.get(
    "/healthz",
    {
      config: { surface: "any" },
      schema: { tags: ["health"], summary: "Liveness", response: { 200: StatusSchema } },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      config: { surface: "any" },
      schema: {
        tags: ["health"],
        summary: "Readiness: database reachable and migrations current",
        response: { 200: StatusSchema, 503: { $ref: "ErrorBody#" } },
      },
    },
    async () => {
      let status: Awaited<ReturnType<typeof migrationStatus>>;
      try {
        status = await migrationStatus(deps.db, MIGRATIONS_DIR);
      } catch (cause) {
        throw new CountersignError("service_unavailable", { cause });
      }
      if (status.pending.length > 0 || status.problems.length > 0) {
        throw new CountersignError("service_unavailable", { cause: status });
      }
      return { status: "ok" as const };
    },
  );
}
