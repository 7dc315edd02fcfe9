import { domainToASCII } from "node:url";

/** Longest address accepted, in UTF-8 bytes (RFC 5321 §4.5.3.1.3 path limit minus the brackets). */
export const MAX_EMAIL_BYTES = 254;
const MAX_LOCAL_PART_BYTES = 64; // RFC 5321 §4.5.3.1.1
const MAX_DOMAIN_BYTES = 253;

// Whitespace, C0/C1 controls, and the specials that need quoting in a local part (RFC 5322
// §3.2.3). Quoted local parts are refused rather than parsed: nobody needs one to sign up, and
// every parser disagrees on them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const FORBIDDEN_IN_LOCAL = /[\s\u0000-\u001f\u007f-\u009f"(),:;<>@[\\\]]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const FORBIDDEN_IN_DOMAIN = /[\s\u0000-\u001f\u007f-\u009f]/u;
const encoder = new TextEncoder();

/**
 * The canonical form of an email address, used both as the blind-index input and as the address
 * mail is sent to (DESIGN §4.9). Returns null when the input is not an address we accept.
 *
 * - Surrounding whitespace is trimmed and the whole is put in Unicode NFC, so the same address
 *   typed on two keyboards indexes the same.
 * - The domain is case-insensitive (RFC 1035 §2.3.3, RFC 4343) and is lowercased; an
 *   internationalized domain is converted to its ASCII (A-label) form by UTS #46 processing,
 *   so `BÜCHER.example` and `xn--bcher-kva.example` are one domain.
 * - The local part is kept exactly as typed. RFC 5321 §2.4 lets the destination host treat it
 *   as case-sensitive, so lowercasing it (or removing dots or `+tags`, which only some providers
 *   ignore) could merge two mailboxes that belong to different people and send one person's
 *   codes to the other. The cost of keeping it is that `Alice@x.org` and `alice@x.org` can be two
 *   accounts; the person who owns both mailboxes can only confuse themselves.
 *
 * @example
 * ```ts
 * normalizeEmail("  Alice@Example.COM ") // "Alice@example.com"
 * ```
 */
export function normalizeEmail(input: unknown): string | null {
  if (typeof input !== "string") return null;
  const text = input.trim().normalize("NFC");
  const at = text.lastIndexOf("@");
  if (at <= 0 || at === text.length - 1) return null;
  const local = text.slice(0, at);
  const domainInput = text.slice(at + 1);
  if (local.includes("@") || FORBIDDEN_IN_LOCAL.test(local)) return null;
  if (encoder.encode(local).length > MAX_LOCAL_PART_BYTES) return null;
  if (local.startsWith(".") || local.endsWith(".") || local.includes("..")) return null;
  if (FORBIDDEN_IN_DOMAIN.test(domainInput)) return null;

  // domainToASCII lowercases and applies UTS #46 mapping; it returns "" for an invalid domain.
  const domain = domainToASCII(domainInput);
  if (domain === "" || encoder.encode(domain).length > MAX_DOMAIN_BYTES) return null;
  const labels = domain.split(".");
  // A mailbox needs a dotted domain with LDH labels; IP literals and single labels are refused.
  if (labels.length < 2) return null;
  for (const label of labels) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) return null;
  }
  if (/^[0-9]+$/.test(labels.at(-1) ?? "")) return null;

  const email = `${local}@${domain}`;
  return encoder.encode(email).length > MAX_EMAIL_BYTES ? null : email;
}
