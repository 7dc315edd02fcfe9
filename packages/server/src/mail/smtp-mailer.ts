import { createTransport } from "nodemailer";
import { assertMailMessage, type Mailer, type MailMessage } from "./mailer.ts";

/** What {@link createSmtpMailer} needs. */
export interface SmtpMailerOptions {
  /** `smtp://` (STARTTLS when offered) or `smtps://` (TLS from the start), with credentials if any. */
  readonly smtpUrl: string;
  /** The sender, e.g. `Countersign <no-reply@countersign.example>`. */
  readonly from: string;
}

/**
 * Mail over SMTP with nodemailer (issue 4, `SMTP_URL`). Options the URL does not set get
 * defaults suited to a request path: give up on a relay that does not answer within 10 seconds
 * rather than nodemailer's minutes. nodemailer's own logger stays off, so no envelope, header or
 * body reaches a log; a failure is rethrown with a fixed message and the cause.
 *
 * One connection per message (no pool): Countersign sends a few messages an hour, and a pooled
 * connection would outlive the relay's idle timeout between them.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  if (!/^smtps?:\/\/[^/]/.test(options.smtpUrl)) throw new TypeError("smtpUrl must be an smtp:// or smtps:// URL");
  const transport = createTransport(
    {
      url: options.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      logger: false,
      debug: false,
    },
    { from: options.from, disableFileAccess: true, disableUrlAccess: true },
  );
  let closed = false;

  return Object.freeze({
    async send(message: MailMessage): Promise<void> {
      assertMailMessage(message);
      if (closed) throw new Error("the mailer is closed");
      try {
        await transport.sendMail({ to: message.to, subject: message.subject, text: message.text });
      } catch (cause) {
        throw new Error("the mail relay did not accept the message", { cause });
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      transport.close();
    },
  });
}
