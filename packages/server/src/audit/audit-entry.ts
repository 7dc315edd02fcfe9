import { canonicalize, fromUtf8, utf8 } from "@countersign/protocol";
import type { AuditActorType, JsonValue } from "./audit-event.ts";

/**
 * The canonical entry, version 1 (docs/audit-log.md "Entry format"): the bytes that are stored in
 * `audit_log.entry`, hashed into the chain and, through the chain hash, into the Merkle tree.
 *
 *     entry = UTF-8( JCS( { "v": 1, "id", "time", "type", "actor", "subject", "user",
 *                           "request", "details", "context" } ) )
 *
 * JCS is RFC 8785: members sorted by UTF-16 code units, no whitespace, ECMAScript number form.
 * Every member is always present (absent values are `null`), so an entry has one encoding only.
 * A later version adds members or changes meanings under a new `v`; readers refuse versions they
 * do not know.
 */

/** The version this code writes and the only one it reads. */
export const AUDIT_ENTRY_VERSION = 1;

/** Largest canonical entry, in bytes (the `audit_log.entry` CHECK). */
export const MAX_ENTRY_BYTES = 65_536;

/** The fields of a version-1 entry. */
export interface AuditEntryV1 {
  readonly v: 1;
  /** Random UUID (lower case), chosen before the entry is sealed; the AAD of its context. */
  readonly id: string;
  /** When it happened: RFC 3339 UTC with milliseconds, `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  readonly time: string;
  readonly type: string;
  readonly actor: { readonly type: AuditActorType; readonly id: string | null };
  readonly subject: { readonly type: string; readonly id: string } | null;
  readonly user: string | null;
  readonly request: string | null;
  readonly details: { readonly [key: string]: JsonValue };
  /** `v1.<kid>.<base64url>` field ciphertext of JCS(context) (DESIGN §4.9), or null. */
  readonly context: string | null;
}

const MEMBERS = ["actor", "context", "details", "id", "request", "subject", "time", "type", "user", "v"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Encodes an entry canonically.
 *
 * @throws CountersignError `validation_failed` when a value is not canonicalizable JSON;
 *   RangeError when the entry exceeds {@link MAX_ENTRY_BYTES}.
 */
export function encodeAuditEntry(entry: AuditEntryV1): Uint8Array {
  const bytes = utf8(canonicalize(entry));
  if (bytes.length > MAX_ENTRY_BYTES) throw new RangeError(`an audit entry must not exceed ${MAX_ENTRY_BYTES} bytes`);
  return bytes;
}

/**
 * Decodes and checks stored entry bytes: valid UTF-8 JSON of a known version, every member
 * present and well typed, and canonical (encoding the result gives back exactly these bytes).
 *
 * @throws TypeError naming what is wrong
 */
export function decodeAuditEntry(bytes: Uint8Array): AuditEntryV1 {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new TypeError("the entry is not UTF-8 JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TypeError("the entry is not a JSON object");
  }
  const entry = parsed as Record<string, unknown>;
  if (entry.v !== AUDIT_ENTRY_VERSION) throw new TypeError(`unknown entry version ${JSON.stringify(entry.v)}`);
  const keys = Object.keys(entry).sort();
  if (keys.length !== MEMBERS.length || keys.some((key, i) => key !== MEMBERS[i])) {
    throw new TypeError(`a version-1 entry has exactly the members ${MEMBERS.join(", ")}`);
  }
  const actor = entry.actor as Record<string, unknown> | null;
  const subject = entry.subject as Record<string, unknown> | null;
  const valid =
    typeof entry.id === "string" &&
    UUID.test(entry.id) &&
    typeof entry.time === "string" &&
    TIME.test(entry.time) &&
    typeof entry.type === "string" &&
    typeof actor === "object" &&
    actor !== null &&
    typeof actor.type === "string" &&
    (actor.id === null || typeof actor.id === "string") &&
    (subject === null ||
      (typeof subject === "object" && typeof subject.type === "string" && typeof subject.id === "string")) &&
    isNullableString(entry.user) &&
    isNullableString(entry.request) &&
    typeof entry.details === "object" &&
    entry.details !== null &&
    !Array.isArray(entry.details) &&
    isNullableString(entry.context);
  if (!valid) throw new TypeError("a member of the entry has the wrong type");
  const decoded = entry as unknown as AuditEntryV1;
  const again = encodeAuditEntry(decoded);
  if (again.length !== bytes.length || again.some((byte, i) => byte !== bytes[i])) {
    throw new TypeError("the entry is not in canonical (RFC 8785) form");
  }
  return decoded;
}

function isNullableString(value: unknown): boolean {
  return value === null || typeof value === "string";
}
