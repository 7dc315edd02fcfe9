import type { Config } from "../config/config.ts";
import { createConsoleMailer, type TextSink } from "./console-mailer.ts";
import type { Mailer } from "./mailer.ts";
import { createSmtpMailer } from "./smtp-mailer.ts";

/**
 * The configured mailer: SMTP when `SMTP_URL` is set, otherwise (development and tests only;
 * `loadConfig` refuses production without it) the console mailer.
 */
export function createMailer(config: Pick<Config, "mail" | "environment">, options: { out?: TextSink } = {}): Mailer {
  const { smtpUrl, from } = config.mail;
  if (smtpUrl !== undefined) return createSmtpMailer({ smtpUrl, from });
  if (config.environment === "production") throw new Error("production needs SMTP_URL");
  return createConsoleMailer({ from, ...(options.out ? { out: options.out } : {}) });
}
