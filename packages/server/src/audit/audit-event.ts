/**
 * What a domain hands to `audit.append` (DESIGN §4.8): one security-relevant event. Everything
 * except `context` is stored in plaintext and hashed as is, so it must carry no personal data:
 * ids, states, counts, hashes, modes. Personal or sensitive facts (IP addresses, user agents,
 * the request's context, decision evidence) go in `context`, which is encrypted with the user's
 * data key (T-5) and can be crypto-shredded without breaking the chain.
 */

/** A JSON value, as RFC 8785 canonicalizes it. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Who caused the event. */
export type AuditActorType = "user" | "agent" | "device" | "operator" | "system";

/** The actor: a kind and, except for `system` and CLI `operator` events, its id. */
export interface AuditActor {
  readonly type: AuditActorType;
  readonly id?: string | null;
}

/** What the event is about, e.g. `{ type: "approval", id }`. */
export interface AuditSubject {
  readonly type: string;
  readonly id: string;
}

/** One event to append to the audit log. */
export interface AuditEvent {
  /** Dotted lower-case name, e.g. `approval.decided`, `agent.revoked`, `audit.purged`. */
  readonly type: string;
  readonly actor: AuditActor;
  readonly subject?: AuditSubject | null;
  /** The user whose account the event belongs to; required when there is a `context`. */
  readonly userId?: string | null;
  /** The HTTP request id the event came from, to find it in the server logs. */
  readonly requestId?: string | null;
  /** Plaintext, non-personal facts. Hashed and readable by anyone with database access. */
  readonly details?: { readonly [key: string]: JsonValue };
  /** Personal or sensitive facts; encrypted with the user's data key before anything is stored. */
  readonly context?: { readonly [key: string]: JsonValue } | null;
}

export const ACTOR_TYPES: readonly AuditActorType[] = ["user", "agent", "device", "operator", "system"];

const EVENT_TYPE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;
const SUBJECT_TYPE = /^[a-z][a-z0-9_]*$/;
const MAX_EVENT_TYPE = 64;
const MAX_SUBJECT_TYPE = 32;
const MAX_ID = 200;
// C0 controls and DEL: ids are opaque, but they end up in logs and reports.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks an event's shape and returns nothing; throws a TypeError naming the first bad field.
 * JSON-ness and size of `details` and `context` are checked when they are canonicalized.
 */
export function assertAuditEvent(event: AuditEvent): void {
  if (typeof event !== "object" || event === null) throw new TypeError("event must be an object");
  if (typeof event.type !== "string" || event.type.length > MAX_EVENT_TYPE || !EVENT_TYPE.test(event.type)) {
    throw new TypeError("event.type must be a dotted lower-case name such as approval.decided (at most 64 characters)");
  }
  const actor = event.actor;
  if (typeof actor !== "object" || actor === null || !ACTOR_TYPES.includes(actor.type)) {
    throw new TypeError(`event.actor.type must be one of ${ACTOR_TYPES.join(", ")}`);
  }
  assertOptionalId(actor.id, "event.actor.id");
  if (event.subject !== undefined && event.subject !== null) {
    const { type, id } = event.subject;
    if (typeof type !== "string" || type.length > MAX_SUBJECT_TYPE || !SUBJECT_TYPE.test(type)) {
      throw new TypeError("event.subject.type must be a lower-case name such as approval (at most 32 characters)");
    }
    assertId(id, "event.subject.id");
  }
  assertOptionalId(event.userId, "event.userId");
  assertOptionalId(event.requestId, "event.requestId");
  if (event.details !== undefined && !isPlainObject(event.details)) {
    throw new TypeError("event.details must be a plain object");
  }
  if (event.context !== undefined && event.context !== null) {
    if (!isPlainObject(event.context)) throw new TypeError("event.context must be a plain object");
    if (event.userId === undefined || event.userId === null) {
      throw new TypeError("event.context needs event.userId: it is encrypted with that user's data key");
    }
  }
}

function assertOptionalId(value: unknown, label: string): void {
  if (value !== undefined && value !== null) assertId(value, label);
}

function assertId(value: unknown, label: string): void {
  if (
    typeof value !== "string" ||
    value === "" ||
    value.length > MAX_ID ||
    !value.isWellFormed() ||
    CONTROL.test(value)
  ) {
    throw new TypeError(
      `${label} must be a non-empty string of at most ${MAX_ID} characters without control characters`,
    );
  }
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
