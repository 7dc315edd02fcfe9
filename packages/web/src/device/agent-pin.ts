import { fromBase64Url, timingSafeEqual } from "@countersign/protocol";
import type { AgentE2e } from "../api/types.ts";
import type { Keyring } from "./keyring.ts";

/** What this device can say about the account key an agent is pinned to. */
export type PinCheck =
  /** The pin is this device's unlocked key set: `fingerprint` is computed here, from the key. */
  | { kind: "verified"; fingerprint: string }
  /** The pin names another key set or another public key than the one this device opened. */
  | { kind: "mismatch" }
  /** This device holds no opened key to compare with: unlock to verify. */
  | { kind: "unverified" };

/**
 * Checks an agent's pin (`agent.e2e`, as the server reports it) against the key set this device
 * opened. The server's `fingerprint` is never used: a server that pinned an agent to a key of its
 * own would also report that key's fingerprint, and the person would compare it with the CLI's and
 * find them equal. Only a match of both the key id and the public key with the key derived here
 * shows a fingerprint.
 */
export function checkAgentPin(pin: AgentE2e, state: Keyring): PinCheck {
  if (state.status !== "unlocked") return { kind: "unverified" };
  const pinned = fromBase64Url(pin.public_key);
  const mine = fromBase64Url(state.publicKey);
  if (pin.account_key_id !== state.accountKeyId || pinned === null || mine === null) return { kind: "mismatch" };
  return timingSafeEqual(pinned, mine) ? { kind: "verified", fingerprint: state.fingerprint } : { kind: "mismatch" };
}
