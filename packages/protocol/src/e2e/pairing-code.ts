import { randomBytes } from "../encoding/bytes.ts";
import { CountersignError } from "../errors/countersign-error.ts";
import { base32Encode } from "./base32.ts";

/** Crockford's base32 alphabet: no I, L, O or U, so the code survives being read aloud. */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LENGTH = 8;

/**
 * Generates a pairing code: 40 random bits as 8 Crockford base32 characters, shown `XXXX-XXXX`.
 * Its low entropy is fine because CPace allows one online guess per pairing session (D-2).
 * The CPace password (PRS) is the UTF-8 of {@link normalizePairingCode}'s result.
 */
export function generatePairingCode(): string {
  const code = base32Encode(randomBytes(5), CROCKFORD);
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * Normalizes a typed pairing code to its 8 canonical characters: upper case, spaces and dashes
 * removed, and Crockford's decoding rules O→0, I→1, L→1 applied.
 *
 * @throws CountersignError `pairing_code_invalid` for a wrong length or any other character
 * (including U, which Crockford leaves out).
 */
export function normalizePairingCode(input: string): string {
  if (typeof input !== "string") throw new CountersignError("pairing_code_invalid");
  const code = input.replace(/[\s-]/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
  if (code.length !== CODE_LENGTH) throw new CountersignError("pairing_code_invalid");
  for (const char of code) if (!CROCKFORD.includes(char)) throw new CountersignError("pairing_code_invalid");
  return code;
}
