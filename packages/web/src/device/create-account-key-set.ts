import {
  accountPrivateKeyAad,
  generateAccountKeyPair,
  generateRecoverySecret,
  parseRecoverySecret,
  randomBytes,
  randomKey32,
  recoveryAukAad,
  recoveryKeyFromSecret,
  sealWithKey,
  toBase64Url,
} from "@countersign/protocol";
import type { AccountKeyBody } from "../api/types.ts";
import { wrapBundle } from "./credential-bundle.ts";

/** A new account key set, ready to send, and the recovery secret to show once. */
export interface NewAccountKeySet {
  body: AccountKeyBody;
  /** The Recovery Kit's secret, grouped base32. Shown once, never stored. */
  recoverySecret: string;
}

/**
 * Makes the account key set on this device (spec §0, §4): an id (chosen here because the AADs
 * name it), an X25519 pair, a random AUK sealing the private key, the AUK sealed under the
 * recovery secret, and this device's bundle. Nothing secret leaves in the clear; the AUK and the
 * private key are wiped before returning.
 */
export async function createAccountKeySet(args: {
  userId: string;
  deviceId: string;
  wrapping: CryptoKey;
}): Promise<NewAccountKeySet> {
  const id = `ak_${toBase64Url(randomBytes(16))}`;
  const pair = generateAccountKeyPair();
  const auk = randomKey32();
  const recoverySecret = generateRecoverySecret();
  const recoveryKey = recoveryKeyFromSecret(parseRecoverySecret(recoverySecret), args.userId);
  try {
    return {
      body: {
        id,
        public_key: toBase64Url(pair.publicKey),
        encrypted_private_key: sealWithKey(auk, pair.privateKey, accountPrivateKeyAad(args.userId, id)),
        recovery_wrapped_auk: sealWithKey(recoveryKey, auk, recoveryAukAad(args.userId, id)),
        bundle: await wrapBundle(args.wrapping, auk, args.userId, args.deviceId, id),
      },
      recoverySecret,
    };
  } finally {
    auk.fill(0);
    recoveryKey.fill(0);
    pair.privateKey.fill(0);
  }
}
