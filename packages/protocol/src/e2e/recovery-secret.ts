import { randomBytes } from "../encoding/bytes.ts";
import { CountersignError } from "../errors/countersign-error.ts";
import { base32DecodeBlocks, base32Encode, groupsOfFour } from "./base32.ts";

/** 160 bits: comfortably above the 128 bits the issue requires, and exactly 32 base32 characters. */
const SECRET_BYTES = 20;
const SECRET_CHARS = 32;

/**
 * Generates the Recovery Kit secret: 160 random bits in RFC 4648 base32, 8 groups of 4 joined
 * by "-" (`ABCD-EFGH-…`). It is shown once and never sent to the server.
 */
export function generateRecoverySecret(): string {
  return groupsOfFour(base32Encode(randomBytes(SECRET_BYTES)));
}

/**
 * Parses a recovery secret as a person types it: any case, with or without spaces and dashes.
 * Nothing else is repaired — base32 has no 0/1/8/9, and guessing what was meant would turn a typo
 * into a wrong key rather than a clear error.
 *
 * @returns the 20 secret bytes.
 * @throws CountersignError `recovery_secret_invalid` for a wrong length or a character outside
 * the alphabet.
 */
export function parseRecoverySecret(input: string): Uint8Array {
  if (typeof input !== "string") throw new CountersignError("recovery_secret_invalid");
  const compact = input.replace(/[\s-]/g, "").toUpperCase();
  if (compact.length !== SECRET_CHARS) throw new CountersignError("recovery_secret_invalid");
  const bytes = base32DecodeBlocks(compact);
  if (bytes === null) throw new CountersignError("recovery_secret_invalid");
  return bytes;
}
