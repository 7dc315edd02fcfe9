import { createHash } from "node:crypto";

const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * The Web Push `Topic` for a request (RFC 8030 §5.4: at most 32 characters of the URL- and
 * filename-safe base64 alphabet). A newer message with the same topic replaces an undelivered
 * one. Approval ids (`apr_` + 22 base64url characters) already qualify and are used as they are,
 * so a service worker can read the id back from the topic; anything else is hashed to 32
 * characters (SHA-256, base64url, truncated).
 */
export function pushTopic(requestId: string): string {
  if (TOPIC.test(requestId)) return requestId;
  return createHash("sha256").update(requestId).digest("base64url").slice(0, 32);
}
