import type { Config } from "../config/config.ts";
import { createKeyRing, type KeyRing } from "./key-ring.ts";

/**
 * Builds the key-encryption-key ring from the loaded configuration
 * (`config.secrets.keyEncryptionKeys`, DESIGN §4.9): the first key listed is current and wraps,
 * the others only unwrap. Build it once at start-up and pass it down.
 *
 * @throws TypeError or RangeError when the ring is not valid (see {@link createKeyRing}).
 *
 * @example
 * ```ts
 * const ring = createKeyRingFromConfig(loadConfig(process.env));
 * const dataKeys = createUserDataKeys(ring);
 * ```
 */
export function createKeyRingFromConfig(config: Pick<Config, "secrets">): KeyRing {
  const { current, keys } = config.secrets.keyEncryptionKeys;
  return createKeyRing({ current, keys });
}
