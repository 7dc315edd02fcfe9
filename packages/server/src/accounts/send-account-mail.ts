import type { FastifyBaseLogger } from "fastify";
import type { Mailer } from "../mail/mailer.ts";
import type { MailContent } from "./account-mail.ts";

/**
 * Hands an account mail to the mailer without waiting for the relay. The response must not
 * depend on the mail: an SMTP round trip can outlast the minimum response time, and the
 * start endpoints send a mail for some addresses and none for others, so waiting would time the
 * difference. A failure is logged with the mailer's error, which never carries the body (the
 * code); the person simply asks again. A mail still in flight when the process stops is lost.
 */
export function sendAccountMail(
  mailer: Pick<Mailer, "send">,
  log: FastifyBaseLogger,
  to: string,
  content: MailContent,
): void {
  void Promise.resolve()
    .then(() => mailer.send({ to, subject: content.subject, text: content.text }))
    .catch((err: unknown) => log.error({ err }, "account mail was not sent"));
}
