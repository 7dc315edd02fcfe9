export {
  AGENT_AUTH_MODES,
  AGENT_STATUSES,
  type AgentAuthMode,
  type AgentE2eKey,
  type AgentStatus,
  type AgentView,
} from "./agents/agent-view.ts";
export {
  type AgentApprovalView,
  APPROVAL_REASONS,
  APPROVAL_STATUSES,
  type ApprovalReason,
  type ApprovalStatus,
  isTerminalStatus,
  type PersonApprovalView,
  type StoredDisplayPayload,
  type TerminalApprovalStatus,
} from "./approvals/approval-views.ts";
export {
  DECISION_CHALLENGE_VERSION,
  type Decision,
  type DecisionChallengeInput,
  decisionChallenge,
} from "./approvals/decision-challenge.ts";
export { RECEIPT_TYPE, type ReceiptClaims } from "./approvals/receipt-claims.ts";
export {
  buildConsistencyProof,
  buildInclusionProof,
  rootHashFrom,
  type SubtreeLookup,
} from "./audit-log/build-proof.ts";
export {
  type Checkpoint,
  formatCheckpoint,
  type ParseCheckpointResult,
  parseCheckpoint,
} from "./audit-log/checkpoint.ts";
export { leafHash, nodeHash, rootHash } from "./audit-log/merkle-hash.ts";
export { MerkleTree } from "./audit-log/merkle-tree.ts";
export {
  consistencyProofPlan,
  inclusionProofPlan,
  rootHashPlan,
  type SubtreeCoordinate,
} from "./audit-log/proof-plan.ts";
export {
  type NoteSigner,
  type NoteVerifier,
  type OpenNoteResult,
  openNote,
  parseVerifierKey,
  signNote,
  verifierKeyText,
} from "./audit-log/signed-note.ts";
export { verifyConsistency } from "./audit-log/verify-consistency.ts";
export { verifyInclusion } from "./audit-log/verify-inclusion.ts";
export {
  type CpaceResult,
  type CpaceSetup,
  type CpaceStarted,
  cpaceStart,
} from "./cpace/cpace-start.ts";
export { pairingChannelId } from "./cpace/pairing-channel-id.ts";
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
export type { ContentDigestAlgorithm } from "./digest/content-digest-algorithm.ts";
export { createContentDigest } from "./digest/create-content-digest.ts";
export { verifyContentDigest } from "./digest/verify-content-digest.ts";
export { accountKeyFingerprint } from "./e2e/account-key-fingerprint.ts";
export { type AccountKeyPair, accountPublicKeyOf, generateAccountKeyPair } from "./e2e/account-key-pair.ts";
export { accountPrivateKeyAad, recoveryAukAad } from "./e2e/e2e-aad.ts";
export { type E2eBinding, e2eInfo } from "./e2e/e2e-info.ts";
export { openContext } from "./e2e/open-context.ts";
export { generatePairingCode, normalizePairingCode } from "./e2e/pairing-code.ts";
export { pairingTransferKey } from "./e2e/pairing-transfer-key.ts";
export { randomKey32 } from "./e2e/random-key32.ts";
export { recoveryKeyFromSecret } from "./e2e/recovery-key-from-secret.ts";
export { generateRecoverySecret, parseRecoverySecret } from "./e2e/recovery-secret.ts";
export { type SealedContext, sealContext } from "./e2e/seal-context.ts";
export { openWithKey, sealWithKey } from "./e2e/seal-with-key.ts";
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
export { checkSignatureWindow, DEFAULT_MAX_SKEW_SECONDS } from "./http-signatures/check-signature-window.ts";
export { COUNTERSIGN_ALG, COUNTERSIGN_LABEL, COUNTERSIGN_TAG } from "./http-signatures/countersign-profile.ts";
export { createSignatureBase } from "./http-signatures/create-signature-base.ts";
export type { HttpRequestParts } from "./http-signatures/http-request-parts.ts";
export {
  type CountersignSignatureParams,
  type ParsedRequestSignature,
  type ParseRequestSignatureResult,
  parseRequestSignature,
} from "./http-signatures/parse-request-signature.ts";
export { type RequestSigner, type SignRequestOptions, signRequest } from "./http-signatures/sign-request.ts";
export { type SignatureVerifier, verifyParsedSignature } from "./http-signatures/verify-parsed-signature.ts";
export {
  type VerifyRequestOptions,
  type VerifyRequestResult,
  verifyRequest,
} from "./http-signatures/verify-request.ts";
export { canonicalize } from "./jcs/canonicalize.ts";
export { type DisplayPayload, displayPayloadHash } from "./jcs/display-payload-hash.ts";
