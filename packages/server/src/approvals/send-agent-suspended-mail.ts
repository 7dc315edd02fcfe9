import type { FastifyBaseLogger } from "fastify";
import type { AppServices } from "../app-services.ts";

/**
 * Tells the person that their agent was suspended because they reported a request they did not
 * ask for (T-1): someone may hold the agent's key, and the mail reaches them even if the app is
 * closed. Sent after the commit without holding up the response; a failure is logged.
 */
export function sendAgentSuspendedMail(
  services: Pick<AppServices, "db" | "mailer" | "accounts">,
  log: FastifyBaseLogger,
  userId: string,
  agentId: string,
): void {
  void (async () => {
    const { users } = services.accounts;
    const user = await users.findById(services.db, userId);
    const to = user === null ? null : await users.readEmail(services.db, user);
    if (to === null) return;
    const { rows } = await services.db.query<{ name: string }>("SELECT name FROM agents WHERE id = $1", [agentId]);
    const name = rows[0]?.name ?? agentId;
    await services.mailer.send({
      to,
      subject: `Countersign suspended your agent "${name}"`,
      text:
        `You told Countersign you did not ask for a request from your agent "${name}" (${agentId}).\n\n` +
        "The request was rejected, the agent is suspended and its other open requests were canceled. " +
        "Someone else may hold its key: rotate its credentials before you resume it, or revoke it.\n",
    });
  })().catch((err: unknown) => log.error({ err }, "agent suspension mail was not sent"));
}
