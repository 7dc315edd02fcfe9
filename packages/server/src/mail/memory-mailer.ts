import { assertMailMessage, type Mailer, type MailMessage } from "./mailer.ts";

/** A mailer that keeps what it was given, for tests. */
export interface MemoryMailer extends Mailer {
  /** Every message sent, oldest first. */
  readonly sent: readonly MailMessage[];
}

/**
 * Keeps messages in memory instead of sending them. For tests (pass it as `services.mailer` to
 * `createTestApp`) that read a code out of a mail; it checks messages like the real mailers do.
 */
export function createMemoryMailer(): MemoryMailer {
  const sent: MailMessage[] = [];
  return {
    sent,
    async send(message: MailMessage): Promise<void> {
      assertMailMessage(message);
      sent.push({ to: message.to, subject: message.subject, text: message.text });
    },
    async close(): Promise<void> {},
  };
}
