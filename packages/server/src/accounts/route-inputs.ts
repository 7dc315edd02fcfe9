import { CountersignError } from "@countersign/protocol";
import { DEFAULT_PASSKEY_NAME, normalizePasskeyName } from "../passkeys/passkey-name.ts";
import { normalizeEmail } from "./normalize-email.ts";

/** What every start endpoint answers, whether or not the address has an account. */
export const SENT_BODY = Object.freeze({
  status: "sent" as const,
  message: "If this address can receive it, a message is on its way. Check your inbox.",
});

/** The normalized address, or 400 `validation_failed` naming the field. */
export function requireEmail(input: string): string {
  const email = normalizeEmail(input);
  if (email === null) {
    throw new CountersignError("validation_failed", {
      details: { in: "body", issues: [{ path: "/email", message: "is not an email address" }] },
    });
  }
  return email;
}

/** A passkey name from the body, or the default; 400 when one was given and is unusable. */
export function passkeyName(input: string | undefined): string {
  if (input === undefined) return DEFAULT_PASSKEY_NAME;
  const name = normalizePasskeyName(input);
  if (name === null) {
    throw new CountersignError("validation_failed", {
      details: { in: "body", issues: [{ path: "/name", message: "is not a usable passkey name" }] },
    });
  }
  return name;
}

/** 400 `code_invalid` for a ticket that is unknown, used or expired. */
export function ticketInvalid(): CountersignError {
  return new CountersignError("code_invalid", { message: "The ticket is not valid or has expired; start again." });
}
