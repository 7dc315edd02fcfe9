/**
 * The account mails. Plain text only: nothing to render, nothing to track. Codes appear here and
 * nowhere else (never in a response or a log line). Every mail says what to do if the person
 * did not ask for it, because an unasked-for mail is how they learn someone is trying.
 */

/** A message for `MailerPort.send`, without the recipient. */
export interface MailContent {
  readonly subject: string;
  readonly text: string;
}

const IGNORE = "If you did not ask for this, you can ignore this message; nothing changes without the code.";

/** The sign-up code. */
export function signupCodeMail(code: string, minutes: number): MailContent {
  return {
    subject: `Your Countersign sign-up code: ${code}`,
    text: `Your Countersign sign-up code is ${code}.\n\nIt works once, for ${minutes} minutes.\n\n${IGNORE}\n`,
  };
}

/**
 * Sent instead of a code when someone starts a sign-up with an address that already has an
 * account: the person at that address learns of it, and the one who typed it learns nothing.
 */
export function alreadyRegisteredMail(): MailContent {
  return {
    subject: "Someone tried to sign up to Countersign with your address",
    text:
      "Someone just tried to create a Countersign account with this address, which already has one.\n\n" +
      "If it was you, sign in with your passkey instead. If you lost your passkeys, use account recovery " +
      "with one of your recovery codes.\n\nIf it was not you, you can ignore this message: your account is unchanged.\n",
  };
}

/** The recovery code. */
export function recoveryCodeMail(code: string, minutes: number): MailContent {
  return {
    subject: `Your Countersign recovery code: ${code}`,
    text:
      `Your Countersign account recovery code is ${code}.\n\nIt works once, for ${minutes} minutes, ` +
      "together with one of the recovery codes you saved when you signed up.\n\n" +
      "If you did not ask for this, someone may be trying to take over your account: keep your recovery codes safe.\n",
  };
}

/** The second factor after a correct password. */
export function passwordCodeMail(code: string, minutes: number): MailContent {
  return {
    subject: `Your Countersign sign-in code: ${code}`,
    text:
      `Your Countersign sign-in code is ${code}.\n\nIt works once, for ${minutes} minutes.\n\n` +
      "Someone entered your password to get this code. If it was not you, change your password now.\n",
  };
}

/** The notice after a recovery: every other session ended. */
export function recoveredMail(): MailContent {
  return {
    subject: "Your Countersign account was recovered",
    text:
      "Your Countersign account was just recovered with an email code and a recovery code, and a new passkey " +
      "was registered. Every other session was signed out.\n\n" +
      "If this was not you, sign in with one of your passkeys, revoke the passkey you do not recognize, and " +
      "generate new recovery codes.\n",
  };
}
