/** A plain-text message to one recipient. */
export interface MailMessage {
  /** One address, e.g. `ada@example.com`. */
  readonly to: string;
  /** One line, at most 200 characters. */
  readonly subject: string;
  /** The plain-text body. May hold a one-time code: never log it. */
  readonly text: string;
}

/**
 * Sends Countersign's mail: sign-up and sign-in codes, recovery notices. Bodies carry one-time
 * codes, so no implementation logs them (issue 4: codes never appear in an API response or a log
 * line); the console mailer of development prints them to stdout on purpose, and nowhere else.
 */
export interface Mailer {
  /**
   * Sends the message; resolves once the relay accepted it.
   *
   * @throws TypeError for a malformed message; Error when the relay refuses it or cannot be
   *   reached (its `cause` has the detail, never the body).
   */
  send(message: MailMessage): Promise<void>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}

const MAX_SUBJECT = 200;
const MAX_TEXT = 100_000;
// One bare address; display names and lists are refused, so a value can never add a recipient.
const ADDRESS = /^[^\s@,;:<>()[\]\\"]+@[^\s@,;:<>()[\]\\"]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const LINE_BREAKS_OR_CONTROLS = /[\u0000-\u001f\u007f]/;

/**
 * Throws a TypeError unless the message is one bare recipient address, a one-line subject and a
 * string body. Refusing CR and LF in header values rules out header injection (RFC 5322 §2.2)
 * before any transport sees the message.
 */
export function assertMailMessage(message: MailMessage): void {
  if (typeof message !== "object" || message === null) throw new TypeError("message must be an object");
  const { to, subject, text } = message;
  if (typeof to !== "string" || to.length > 254 || !ADDRESS.test(to)) throw new TypeError("to must be one address");
  if (typeof subject !== "string" || subject.length === 0 || subject.length > MAX_SUBJECT) {
    throw new TypeError(`subject must be 1 to ${MAX_SUBJECT} characters`);
  }
  if (LINE_BREAKS_OR_CONTROLS.test(subject)) throw new TypeError("subject must be one line without control characters");
  if (typeof text !== "string" || text.length > MAX_TEXT || !text.isWellFormed()) {
    throw new TypeError(`text must be well-formed and at most ${MAX_TEXT} characters`);
  }
}
