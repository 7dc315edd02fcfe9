import { signal } from "@preact/signals";

/**
 * Where this device stands with the account's end-to-end keys (DESIGN §4.11):
 * - `off`: signed out, or not looked at yet;
 * - `unregistered`: this browser is not yet a device of the account (registering needs a passkey);
 * - `failed`: setting the device up failed (shown, with a retry);
 * - `no-account-key`: a device, but the account has no key set yet;
 * - `locked`: the account has a key set this device cannot open (no bundle: pair or recover);
 * - `unlocked`: the account private key is in memory and end-to-end context can be read;
 * - `refused`: this device opened a key set and refused it: the server's public key is not the
 *   one of the private key it opened (`public-key-mismatch`), or the server served an older key
 *   set than one this device already unlocked with (`key-rollback`). No key is held.
 *
 * The fingerprint and public key of `unlocked` are derived on this device from the opened private
 * key, never taken from the server; `locked` has no fingerprint, as nothing here can vouch for one.
 */
export type Keyring =
  | { status: "off" }
  | { status: "unregistered" }
  | { status: "failed"; error: unknown }
  | { status: "no-account-key"; deviceId: string }
  | {
      status: "locked";
      deviceId: string;
      accountKeyId: string;
      /** The device holds a bundle, but the server gives it only after a passkey confirmation. */
      needsPasskey: boolean;
    }
  | { status: "refused"; deviceId: string; reason: "public-key-mismatch" | "key-rollback" }
  | {
      status: "unlocked";
      deviceId: string;
      accountKeyId: string;
      /** `accountKeyFingerprint(publicKey)`, computed here. */
      fingerprint: string;
      /** b64u of the public key derived here from the private key (X25519 of the base point). */
      publicKey: string;
    };

/** The keyring's public state, for screens. Holds no secret. */
export const keyring = signal<Keyring>({ status: "off" });

// The account private key lives here only: in memory, never in storage, gone on reload or sign-out.
let privateKey: { accountKeyId: string; key: Uint8Array } | null = null;

/**
 * Holds the unlocked account private key and says so. `fingerprint` and `publicKey` must be derived
 * from `key` on this device (refresh-keyring.ts does), never copied from a server answer.
 */
export function setUnlocked(
  state: { deviceId: string; accountKeyId: string; fingerprint: string; publicKey: string },
  key: Uint8Array,
): void {
  privateKey?.key.fill(0);
  privateKey = { accountKeyId: state.accountKeyId, key };
  keyring.value = { status: "unlocked", ...state };
}

/** The account private key for `accountKeyId`, or null when locked or the key set differs. */
export function accountPrivateKey(accountKeyId: string): Uint8Array | null {
  return privateKey !== null && privateKey.accountKeyId === accountKeyId ? privateKey.key : null;
}

/** Sets a state that holds no private key, wiping any held one. */
export function setKeyring(state: Exclude<Keyring, { status: "unlocked" }>): void {
  privateKey?.key.fill(0);
  privateKey = null;
  keyring.value = state;
}
