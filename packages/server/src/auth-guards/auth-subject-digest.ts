import { createHmac, createSecretKey } from "node:crypto";
import { utf8 } from "@countersign/protocol";
import { assertText } from "../crypto/assert-text.ts";
import { deriveKey } from "../crypto/derive-key.ts";
import { clientNetwork } from "./client-network.ts";

/** What an attempt limit counts: an account, or a client network. */
export type AuthSubjectScope = "account" | "ip";

/**
 * Keyed digest of who is trying to authenticate, so no table holds an email or an address
 * (seed 001: "digests are used for lookups instead of plaintext values"). An IPv4 address has
 * only 2^32 values, so an unkeyed hash of one could be reversed by enumeration; under a key that
 * lives only in the server's configuration, a database dump alone reveals nothing.
 *
 * @returns a function giving HMAC-SHA-256(auth-subject-digest key, scope ‖ 0x00 ‖ subject), 32
 *   bytes, where an `ip` subject is first reduced to its {@link clientNetwork}. The scope is
 *   bound in, so an account named like an address never shares a digest with that address.
 */
export function createAuthSubjectDigest(
  masterKey: Uint8Array,
): (scope: AuthSubjectScope, subject: string) => Uint8Array {
  // Kept as a KeyObject: Node 24 prepares raw key bytes slowly on every HMAC (crypto/aead.ts).
  const key = createSecretKey(deriveKey(masterKey, "auth-subject-digest"));
  return (scope, subject) => {
    if (scope !== "account" && scope !== "ip") throw new TypeError("scope must be account or ip");
    assertText(subject, "subject");
    const canonical = scope === "ip" ? clientNetwork(subject) : subject;
    return new Uint8Array(
      createHmac("sha256", key)
        .update(utf8(`${scope}\u0000${canonical}`))
        .digest(),
    );
  };
}
