import {
  fromBase64Url,
  importEd25519PrivateJwk,
  type NoteSigner,
  type NoteVerifier,
  parseVerifierKey,
  verifierKeyText,
} from "@countersign/protocol";
import type { Config } from "../config/config.ts";

/** The log's identity and keys, as checkpoints are signed and checked. */
export interface AuditLogSigner {
  /** The checkpoint origin line, which is also the signing key's name. */
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  /** `<origin>+<key id>+<base64 key>`: what auditors pin (C2SP signed-note verifier key). */
  readonly verifierKey: string;
}

/**
 * The log's origin: the public URL without its scheme, e.g. `countersign.example.com`. C2SP
 * tlog-checkpoint asks for a schema-less URL that is unique to the log; the public origin is
 * unique to this deployment.
 */
export function auditLogOrigin(publicUrl: string): string {
  return new URL(publicUrl).host;
}

/**
 * The verifier key auditors pin, from the configuration alone (no key import): the log key's
 * public half named by the origin.
 */
export function auditLogVerifierKey(config: Pick<Config, "publicUrl" | "secrets">): string {
  const publicKey = fromBase64Url(config.secrets.auditLogKey.x);
  if (publicKey === null) throw new TypeError("the audit log key's x is not base64url");
  return verifierKeyText(auditLogOrigin(config.publicUrl), publicKey);
}

/**
 * Imports the audit log's Ed25519 key (`config.secrets.auditLogKey`, DESIGN §4.8) for signing
 * checkpoints, named by the origin as C2SP tlog-checkpoint recommends. Build it once.
 */
export async function createAuditLogSigner(config: Pick<Config, "publicUrl" | "secrets">): Promise<AuditLogSigner> {
  const origin = auditLogOrigin(config.publicUrl);
  const verifierKey = auditLogVerifierKey(config);
  const verifier = parseVerifierKey(verifierKey);
  const privateKey = await importEd25519PrivateJwk(config.secrets.auditLogKey);
  return { origin, signer: { name: origin, privateKey, publicKey: verifier.publicKey }, verifier, verifierKey };
}
