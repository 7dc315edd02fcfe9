import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import { ErrorRef, SettingsBodySchema, SettingsSchema } from "./approval-schemas.ts";

interface SettingsRow {
  default_ttl_seconds: number | null;
  notifications_enabled: boolean;
}

/**
 * The person's settings (issue 6 part 1, issue 7 settings screen): the default approval TTL used
 * when neither the request nor the agent names one, and whether to notify their devices.
 */
export function registerSettingsRoutes(app: FastifyInstance, services: Pick<AppServices, "db" | "clock">): void {
  const { db, clock } = services;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = async (userId: string): Promise<SettingsRow> => {
    const { rows } = await db.query<SettingsRow>(
      "SELECT default_ttl_seconds, notifications_enabled FROM user_settings WHERE user_id = $1",
      [userId],
    );
    return rows[0] ?? { default_ttl_seconds: null, notifications_enabled: true };
  };

  typed.get(
    "/v1/me/settings",
    {
      config: { surface: "app", auth: "session" },
      schema: { tags: ["settings"], summary: "Your settings", response: { 200: SettingsSchema, 401: ErrorRef } },
    },
    async (request) => read(currentSession(request).userId),
  );

  typed.patch(
    "/v1/me/settings",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["settings"],
        summary: "Change your settings (default TTL 30–1,800 s or null, notifications)",
        body: SettingsBodySchema,
        response: { 200: SettingsSchema, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const { userId } = currentSession(request);
      const current = await read(userId);
      const next: SettingsRow = {
        default_ttl_seconds:
          request.body.default_ttl_seconds === undefined
            ? current.default_ttl_seconds
            : request.body.default_ttl_seconds,
        notifications_enabled: request.body.notifications_enabled ?? current.notifications_enabled,
      };
      await db.query(
        `INSERT INTO user_settings (user_id, default_ttl_seconds, notifications_enabled, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE
           SET default_ttl_seconds = EXCLUDED.default_ttl_seconds,
               notifications_enabled = EXCLUDED.notifications_enabled,
               updated_at = EXCLUDED.updated_at`,
        [userId, next.default_ttl_seconds, next.notifications_enabled, new Date(clock.now())],
      );
      return next;
    },
  );
}
