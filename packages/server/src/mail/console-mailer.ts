import { assertMailMessage, type Mailer, type MailMessage } from "./mailer.ts";

/** Where the console mailer writes: stdout by default. */
export interface TextSink {
  write(text: string): unknown;
}

/**
 * Development mail (DESIGN §5: "mail printed to the console"): with no `SMTP_URL`, each message
 * is printed to stdout, so a developer can read their sign-up code there. This is the only place
 * a code may be printed, as issue 4 allows; it writes to stdout directly, never through the
 * logger, so log shipping never carries it. `loadConfig` refuses production without SMTP, so this
 * mailer cannot run there.
 */
export function createConsoleMailer(options: { from: string; out?: TextSink }): Mailer {
  const out = options.out ?? process.stdout;
  return Object.freeze({
    async send(message: MailMessage): Promise<void> {
      assertMailMessage(message);
      const rule = "─".repeat(72);
      out.write(
        `\n${rule}\n✉ Mail (development: no SMTP_URL, so it is printed here instead of sent)\n` +
          `From: ${options.from}\nTo: ${message.to}\nSubject: ${message.subject}\n\n${message.text}\n${rule}\n`,
      );
    },
    async close(): Promise<void> {},
  });
}
