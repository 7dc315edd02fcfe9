export {
  type Ed25519PrivateJwk,
  ed25519Sign,
  ed25519Verify,
  exportEd25519PrivateJwk,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  importEd25519PrivateJwk,
  importEd25519PublicKey,
  importEd25519Seed,
} from "./crypto/ed25519.ts";
export { type HashFunction, sha256, sha512 } from "./crypto/sha2.ts";
export { fromBase64, fromBase64Url, toBase64, toBase64Url } from "./encoding/base64.ts";
export { assertBytes, concatBytes, fromUtf8, randomBytes, timingSafeEqual, utf8 } from "./encoding/bytes.ts";
export { fromHex, toHex } from "./encoding/hex.ts";
export {
  CountersignError,
  type CountersignErrorOptions,
  type ErrorBody,
  isCountersignError,
} from "./errors/countersign-error.ts";
export { ERROR_CODES, type ErrorCode, isErrorCode } from "./errors/error-codes.ts";
