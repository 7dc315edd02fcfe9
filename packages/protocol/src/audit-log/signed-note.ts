import { ed25519Sign, ed25519Verify, importEd25519PublicKey } from "../crypto/ed25519.ts";
import { sha256 } from "../crypto/sha2.ts";
import { fromBase64, toBase64 } from "../encoding/base64.ts";
import { assertBytes, concatBytes, fromUtf8, utf8 } from "../encoding/bytes.ts";
import { fromHex, toHex } from "../encoding/hex.ts";
import { hasControlCharacter, isKeyName } from "./note-characters.ts";

/**
 * C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures (type 0x01), wire
 * compatible with golang.org/x/mod/sumdb/note: text, a blank line, then signature lines
 * `— <key name> <base64(4-byte key ID ‖ 64-byte signature)>`.
 */

/** The key that signs notes: a key name and an Ed25519 key pair. */
export interface NoteSigner {
  /** The key name; for a checkpoint it SHOULD equal the log's origin (C2SP tlog-checkpoint). */
  readonly name: string;
  /** The Ed25519 private key (WebCrypto; may be non-extractable). */
  readonly privateKey: CryptoKey;
  /** The matching 32-byte raw Ed25519 public key, needed for the key ID. */
  readonly publicKey: Uint8Array;
}

/** A trusted note verifier key, as {@link parseVerifierKey} returns it. */
export interface NoteVerifier {
  readonly name: string;
  /** The key ID as 8 lowercase hex digits. */
  readonly keyId: string;
  /** The 32-byte raw Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/** The result of {@link openNote}. */
export type OpenNoteResult = { ok: true; text: string; verifiedBy: string[] } | { ok: false; reason: string };

/** C2SP signed-note "Signature types": Ed25519. */
const ED25519_TYPE = 0x01;
const SIGNATURE_PREFIX = "\u2014 "; // em dash, space
// The spec asks verifiers to cap signatures and to accept at least 16; Go's note package caps at 100.
const MAX_SIGNATURES = 100;

/** C2SP signed-note "Ed25519 signatures": SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]. */
function ed25519KeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(name), new Uint8Array([0x0a, ED25519_TYPE]), publicKey)).slice(0, 4);
}

function assertKeyName(name: unknown): asserts name is string {
  if (!isKeyName(name)) throw new TypeError("key name must be non-empty, without spaces, '+' or control characters");
}

/**
 * The verifier key text that auditors configure: `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`,
 * the format of golang.org/x/mod/sumdb/note `NewEd25519VerifierKey`.
 *
 * @throws TypeError on an invalid key name or a public key that is not 32 bytes
 */
export function verifierKeyText(name: string, publicKey: Uint8Array): string {
  assertKeyName(name);
  assertBytes(publicKey, "publicKey", 32);
  const typed = concatBytes(new Uint8Array([ED25519_TYPE]), publicKey);
  return `${name}+${toHex(ed25519KeyId(name, publicKey))}+${toBase64(typed)}`;
}

/**
 * Parses a verifier key text (see {@link verifierKeyText}), checking the key name, the 8-hex-digit
 * key ID, the Ed25519 type byte, the key length, and that the key ID matches the name and key.
 * Whether the key is a valid curve point is checked when {@link openNote} imports it.
 *
 * @throws TypeError when the text is not a valid Ed25519 verifier key
 */
export function parseVerifierKey(text: string): NoteVerifier {
  if (typeof text !== "string") throw new TypeError("verifier key must be a string");
  // The name cannot contain '+', and the hex ID has none, so the first two '+' split the fields;
  // the base64 key may contain more.
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) throw new TypeError("verifier key must be <name>+<key id>+<key>");
  const name = text.slice(0, first);
  const idText = text.slice(first + 1, second);
  assertKeyName(name);
  const id = idText.length === 8 ? fromHex(idText) : null;
  if (id === null) throw new TypeError("verifier key ID must be 8 hex digits");
  const typed = fromBase64(text.slice(second + 1));
  if (typed === null || typed[0] !== ED25519_TYPE || typed.length !== 33) {
    throw new TypeError("verifier key must be a base64 Ed25519 key (type 0x01, 32 bytes)");
  }
  const publicKey = typed.slice(1);
  const keyId = toHex(ed25519KeyId(name, publicKey));
  if (keyId !== toHex(id)) throw new TypeError("verifier key ID does not match the name and key");
  return { name, keyId, publicKey };
}

/**
 * Signs note text with Ed25519 (RFC 8032) and returns the signed note: the text, a blank line
 * and one signature line (C2SP signed-note "Format"). Ed25519 is deterministic, so the same key
 * and text always give the same note.
 *
 * @param text - the note text; must end in a newline and contain no other control characters
 * @throws TypeError on invalid text or key name, or when the private key does not match the
 *   public key (checked by verifying the new signature, so a misconfigured key fails loudly here
 *   instead of producing notes no one can verify)
 */
export async function signNote(text: string, signer: NoteSigner): Promise<string> {
  if (typeof text !== "string" || !text.isWellFormed() || !text.endsWith("\n") || hasControlCharacter(text, true)) {
    throw new TypeError("note text must be well-formed, end in a newline and contain no other control characters");
  }
  const { name, privateKey, publicKey } = signer;
  assertKeyName(name);
  assertBytes(publicKey, "publicKey", 32);
  const message = utf8(text);
  const signature = await ed25519Sign(privateKey, message);
  const verifyKey = await importEd25519PublicKey(publicKey);
  if (verifyKey === null || !(await ed25519Verify(verifyKey, signature, message))) {
    throw new TypeError("privateKey does not match publicKey");
  }
  const blob = concatBytes(ed25519KeyId(name, publicKey), signature);
  return `${text}\n${SIGNATURE_PREFIX}${name} ${toBase64(blob)}\n`;
}

interface SignatureLine {
  name: string;
  keyId: string;
  signature: Uint8Array;
}

// C2SP signed-note "Format": text ending in newline, a blank line, then signature lines.
function splitNote(note: string): { text: string; lines: SignatureLine[] } | null {
  if (!note.isWellFormed() || hasControlCharacter(note, true)) return null;
  // The text is separated from the signatures by the last empty line.
  const split = note.lastIndexOf("\n\n");
  if (split < 0) return null;
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === "" || !block.endsWith("\n")) return null;
  const rawLines = block.slice(0, -1).split("\n");
  if (rawLines.length > MAX_SIGNATURES) return null;
  const lines: SignatureLine[] = [];
  for (const raw of rawLines) {
    if (!raw.startsWith(SIGNATURE_PREFIX)) return null;
    const rest = raw.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space < 0) return null;
    const name = rest.slice(0, space);
    const blob = fromBase64(rest.slice(space + 1));
    // 4-byte key ID and at least one byte of signature.
    if (!isKeyName(name) || blob === null || blob.length < 5) return null;
    lines.push({ name, keyId: toHex(blob.subarray(0, 4)), signature: blob.slice(4) });
  }
  return { text, lines };
}

function isVerifier(v: unknown): v is NoteVerifier {
  if (typeof v !== "object" || v === null) return false;
  const { name, keyId, publicKey } = v as Partial<NoteVerifier>;
  return (
    isKeyName(name) &&
    publicKey instanceof Uint8Array &&
    publicKey.length === 32 &&
    keyId === toHex(ed25519KeyId(name, publicKey))
  );
}

/**
 * Opens a signed note: checks its syntax and the signatures of the trusted `verifiers`, and
 * returns the text only if at least one of them signed it (C2SP signed-note "Signatures").
 * Signatures from unknown keys (name or key ID not both matching a verifier) are ignored; every
 * signature from a known key must verify, or the whole note is refused — stricter than Go's
 * `note.Open`, which skips repeated signatures by one key unverified.
 *
 * Never throws: malformed notes and verifiers give `{ ok: false, reason }`. The reasons are fixed
 * strings that say which check failed, never why a signature did not verify.
 *
 * @param note - the signed note, as text or UTF-8 bytes
 * @param verifiers - the trusted keys, from {@link parseVerifierKey}
 * @returns the note text (including its final newline) and the names of the keys that signed it
 */
export async function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): Promise<OpenNoteResult> {
  let noteText: string;
  if (typeof note === "string") {
    noteText = note;
  } else if (note instanceof Uint8Array) {
    try {
      noteText = fromUtf8(note);
    } catch {
      return { ok: false, reason: "malformed note" };
    }
    // The signed bytes must be exactly the note: refuse any decoding that drops bytes (a BOM).
    if (utf8(noteText).length !== note.length) return { ok: false, reason: "malformed note" };
  } else {
    return { ok: false, reason: "malformed note" };
  }
  if (!Array.isArray(verifiers) || !verifiers.every(isVerifier)) return { ok: false, reason: "invalid verifier" };

  const parsed = splitNote(noteText);
  if (parsed === null) return { ok: false, reason: "malformed note" };

  const message = utf8(parsed.text);
  const verifiedBy = new Set<string>();
  for (const line of parsed.lines) {
    // The key ID is derived from the name and key, so two configured keys share (name, ID) only
    // through a deliberate 32-bit collision; the signature must then verify under each of them,
    // which fails closed.
    for (const verifier of verifiers) {
      if (verifier.name !== line.name || verifier.keyId !== line.keyId) continue;
      const key = await importEd25519PublicKey(verifier.publicKey);
      if (key === null || !(await ed25519Verify(key, line.signature, message))) {
        return { ok: false, reason: "signature verification failed" };
      }
      verifiedBy.add(line.name);
    }
  }
  if (verifiedBy.size === 0) return { ok: false, reason: "no signature from a known key" };
  return { ok: true, text: parsed.text, verifiedBy: [...verifiedBy] };
}
