import { randomBytes } from "node:crypto";
import { hash, parseOptions, verify } from "@node-rs/argon2";
import type { Config } from "../config/config.ts";

/** Argon2id cost parameters (`config.auth.argon2`). */
export type Argon2Params = Config["auth"]["argon2"];

/**
 * Argon2id (RFC 9106) hashing for passwords and recovery codes, in PHC string format
 * (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). `@node-rs/argon2`'s async functions run on the libuv
 * thread pool, so a hash never blocks the event loop.
 */
export interface PasswordHasher {
  /** A new PHC string with a fresh 16-byte salt, under the configured parameters. */
  hash(secret: string): Promise<string>;
  /** Whether `secret` matches `phc`; false (never a throw) for a malformed or foreign hash. */
  verify(phc: string, secret: string): Promise<boolean>;
  /**
   * The same work as {@link PasswordHasher.verify} against a fixed dummy hash made under the same
   * parameters, always false. Unknown accounts run it so they cost what known ones do.
   */
  verifyDummy(secret: string): Promise<false>;
  /** Whether a stored hash was made under other parameters and should be replaced at next sign-in. */
  needsRehash(phc: string): boolean;
}

// Argon2id is the library's default algorithm (its `Algorithm` is a const enum, which type
// stripping cannot read); `hash` output is checked to start with `$argon2id$` in the tests.
const PHC_PREFIX = "$argon2id$v=19$";

/**
 * Builds the hasher. The dummy hash is made once, when first needed, from 32 random bytes no
 * one knows, with the configured parameters, so a dummy verify costs what a real one does even
 * after the operator raises the cost.
 *
 * @example
 * ```ts
 * const hasher = createPasswordHasher(config.auth.argon2);
 * const phc = await hasher.hash("correct horse battery staple");
 * await hasher.verify(phc, "correct horse battery staple"); // true
 * ```
 */
export function createPasswordHasher(params: Argon2Params): PasswordHasher {
  const options = {
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    outputLen: 32,
  };
  let dummy: Promise<string> | undefined;
  const dummyHash = () => {
    dummy ??= hash(randomBytes(32), options);
    return dummy;
  };

  async function verifyPhc(phc: string, secret: string): Promise<boolean> {
    if (typeof phc !== "string" || !phc.startsWith(PHC_PREFIX)) return false;
    try {
      return await verify(phc, secret);
    } catch {
      return false;
    }
  }

  return Object.freeze({
    hash: (secret: string) => hash(secret, options),
    verify: verifyPhc,
    async verifyDummy(secret: string): Promise<false> {
      await verifyPhc(await dummyHash(), secret);
      return false;
    },
    needsRehash(phc: string): boolean {
      try {
        const parsed = parseOptions(phc);
        return (
          !phc.startsWith(PHC_PREFIX) ||
          parsed.memoryCost !== options.memoryCost ||
          parsed.timeCost !== options.timeCost ||
          parsed.parallelism !== options.parallelism
        );
      } catch {
        return true;
      }
    },
  });
}
