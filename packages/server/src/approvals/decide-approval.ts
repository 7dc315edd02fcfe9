import {
  CountersignError,
  type Decision,
  type DisplayPayload,
  decisionChallenge,
  displayPayloadHash,
  timingSafeEqual,
  toBase64Url,
  utf8,
} from "@countersign/protocol";
import type { JsonValue } from "../audit/audit-event.ts";
import type { Queryable, Transaction } from "../db/database.ts";
import { credentialIdFromResponse } from "../passkeys/assertion-ceremony.ts";
import type { PasskeyRow } from "../passkeys/passkey-store.ts";
import { approvalAuditEvent, auditApproval } from "./approval-audit.ts";
import type { ActorContext, ApprovalDeps } from "./approval-deps.ts";
import { type ApprovalRow, type DecisionEvidence, isTerminal } from "./approval-row.ts";
import { openApproval, type SealedApproval } from "./approval-seal.ts";
import {
  type DecisionTarget,
  endApprovalInTurn,
  findForDecision,
  findForUser,
  recordWrongNumber,
} from "./approval-store.ts";
import { expireLazily } from "./create-approval.ts";

/** The body of a decision (DESIGN §4.6), after schema validation. */
export interface DecisionInput {
  readonly decision: Decision;
  /** The 6 digits the person typed; required to approve, ignored to reject. */
  readonly number?: string;
  /** The hash the app computed over what it rendered (T-9). */
  readonly display_payload_hash: string;
  readonly nonce: string;
  /** The WebAuthn assertion (`AuthenticationResponseJSON`) over the decision challenge. */
  readonly credential: unknown;
  /** "I didn't ask for this": rejects and suspends the agent (T-1). Reject only. */
  readonly not_requested?: boolean;
  /**
   * The deciding device could not decrypt the end-to-end context (it holds no unlock key yet), so
   * it rejects what it could show: the hash is over the display payload with `context: null`.
   * Reject only, end-to-end requests only.
   */
  readonly context_unread?: boolean;
}

/** Who decides: the signed-in person, their session, and the device it is bound to (if any). */
export interface DecidingPerson {
  readonly userId: string;
  readonly sessionId: string;
  /** The session's device (DESIGN §4.11), recorded in the decision's audit event; null when unbound. */
  readonly deviceId: string | null;
}

/** What a decision did. */
export interface DecisionOutcome {
  readonly row: ApprovalRow;
  /** True when "I didn't ask for this" suspended the agent. */
  readonly agentSuspended: boolean;
}

/** Wrong numbers allowed before a request is rejected (T-1). */
export const MAX_NUMBER_ATTEMPTS = 3;

/**
 * The decision ceremony (DESIGN §4.6). The server checks, in turn, and refuses at the first
 * failure with its own code:
 *
 * 1. the request is the person's and still open (`approval_expired`, `approval_not_pending`);
 * 2. its agent has not been revoked, suspended or rotated since it asked;
 * 3. the decision nonce is live and issued for this request (consumed now, whatever follows);
 * 4. to approve, the typed number, in constant time; a wrong one is counted, and the third
 *    rejects the request with `number_mismatch`;
 * 5. the display hash equals the stored one (T-9) — except on an end-to-end request, whose context
 *    the server cannot read, so it has no hash to compare: the app's hash is taken, as the hash
 *    the passkey signs in step 6, and becomes the request's hash, the evidence's and the
 *    receipt's `dph`; the agent closes the loop by comparing that `dph` with the hash it
 *    computed over its own plaintext (DESIGN §4.11). A device that could not decrypt may only
 *    reject, saying so (`context_unread`), and its hash, over the payload with a null context, is
 *    one the server can and does check;
 * 6. the WebAuthn assertion: user verification, by an active passkey of this person, over
 *    SHA-256(JCS({v, request_id, decision, display_payload_hash, nonce})) (T-4).
 *
 * Then, in one transaction: the passkey's counter, the state change with its evidence and
 * receipt, the webhook outbox row, the suspension if reported, and the audit event.
 */
export async function decideApproval(
  deps: ApprovalDeps,
  person: DecidingPerson,
  approvalId: string,
  input: DecisionInput,
  actor: ActorContext,
): Promise<DecisionOutcome> {
  const { db, clock } = deps;
  const now = new Date(clock.now());
  if (input.not_requested === true && input.decision !== "reject") {
    throw new CountersignError("validation_failed", { message: "not_requested is only allowed with a rejection." });
  }
  const contextUnread = input.context_unread === true;
  if (contextUnread && input.decision !== "reject") {
    throw new CountersignError("validation_failed", { message: "context_unread is only allowed with a rejection." });
  }

  // 1. The request, and 2. its agent as it is now, read together; alongside them, the passkey
  // the assertion names (checked at step 6). Reads only, each a round trip the decision would
  // otherwise wait for in turn: nothing is concluded from them before its step.
  const credentialId = credentialIdFromResponse(input.credential);
  const [target, known] = await Promise.all([
    findForDecision(db, person.userId, approvalId),
    credentialId === null ? null : deps.passkeys.store.findByCredentialId(db, credentialId),
  ]);
  if (target === null) throw new CountersignError("approval_not_found");
  const { row } = target;
  await assertOpen(deps, row, now);
  assertAgentStillValid(target);

  // The sealed number is opened while the nonce is consumed (its data key is a read); it is
  // compared only at step 4, once the nonce was accepted.
  const opened = input.decision === "approve" ? openApproval(deps.dataKeys, db, row) : null;
  opened?.catch(() => {}); // awaited at step 4, or abandoned with the refusal of step 3

  // 3. The nonce: single use, consumed before anything else can be learned from this attempt.
  if (!(await deps.nonces.consume(db, { nonce: input.nonce, requestId: row.id, userId: person.userId, now }))) {
    throw new CountersignError("decision_nonce_invalid");
  }

  // 4. The number (approve only).
  if (opened !== null) await checkNumber(deps, row, await opened, input.number, now, actor);

  // 5. The display hash. Public values, so a plain comparison leaks nothing.
  const e2e = row.e2e_account_key_id !== null;
  if (contextUnread && !e2e) {
    throw new CountersignError("validation_failed", { message: "context_unread applies to end-to-end requests only." });
  }
  if (!e2e && input.display_payload_hash !== row.display_payload_hash) {
    throw new CountersignError("display_hash_mismatch");
  }
  // A rejection without the context is over a payload the server knows whole: check that one.
  if (contextUnread && input.display_payload_hash !== (await unreadContextHash(deps, row))) {
    throw new CountersignError("display_hash_mismatch");
  }
  const dph = input.display_payload_hash;

  // 6. The passkey assertion over the decision challenge.
  const challenge = toBase64Url(
    await decisionChallenge({
      requestId: row.id,
      decision: input.decision,
      displayPayloadHash: input.display_payload_hash,
      nonce: input.nonce,
    }),
  );
  const passkey = await verifyAssertion(deps, person.userId, known, input.credential, challenge);

  const decidedAt = now;
  const evidence = buildEvidence(deps, row, input, challenge, passkey, decidedAt);
  const iat = Math.floor(decidedAt.getTime() / 1000);
  const receipt =
    input.decision === "approve"
      ? await deps.receipts.sign({
          iss: deps.config.publicUrl,
          sub: row.user_id,
          aud: row.agent_id,
          jti: row.id,
          iat,
          exp: iat + deps.config.approvals.receiptTtlSeconds,
          act: row.action_type,
          dph,
          amr: ["hwk", "user"],
        })
      : undefined;

  // All of it as a late step of the group commit: the units of a batch then end their requests
  // with one UPDATE and record their passkeys' use with another, instead of two statements each.
  return deps.grouped.run(
    async () => ({
      late: async (tx: Transaction) => {
        // Ends it only if still open and unexpired, in one statement; whatever changed since the
        // checks above (a concurrent decision, a cancellation, the deadline) makes it a no-op.
        const ended = await endApprovalInTurn(tx, row.id, {
          status: input.decision === "approve" ? "approved" : "rejected",
          reason: input.not_requested === true ? "not_requested" : null,
          decidedAt,
          evidence,
          ...(receipt === undefined ? {} : { receipt }),
          ...(e2e ? { displayPayloadHash: dph } : {}),
          unexpiredAt: decidedAt,
        });
        if (ended === null) throw await whyNotDecided(tx, person.userId, row.id, decidedAt);
        await deps.notifier.changed(tx, ended, "approval.updated");
        if (input.not_requested === true) {
          await deps.suspendAgent(
            tx,
            { userId: person.userId, ip: actor.ip, requestId: actor.requestId },
            row.agent_id,
            { approvalId: row.id },
          );
        }
        // The passkey's row is the one every decision of this person locks: its counter is
        // written after the request's state, so the lock is held for the append and commit only.
        const recorded = await deps.passkeys.store.recordUse(tx, passkey.id, {
          signCount: evidence.sign_count,
          backedUp: passkey.backedUp,
        });
        if (!recorded) throw new CountersignError("passkey_verification_failed");
        const event = approvalAuditEvent({
          type: input.decision === "approve" ? "approval.approved" : "approval.rejected",
          row: ended,
          actor: { type: "user", id: person.userId },
          requestId: actor.requestId,
          details: {
            credential_id: passkey.credentialId,
            passkey_id: passkey.id,
            ...(e2e ? { e2e: true } : {}),
            ...(contextUnread ? { context_unread: true } : {}),
          },
          context: {
            ip: actor.ip,
            user_agent: actor.userAgent,
            session_id: person.sessionId,
            device_id: person.deviceId,
            evidence: evidence as unknown as JsonValue,
          },
        });
        return { value: { row: ended, agentSuspended: input.not_requested === true }, events: [event] };
      },
    }),
    { orderKey: `${person.userId}|${row.agent_id}`, sealsFor: person.userId },
  );
}

async function assertOpen(deps: ApprovalDeps, row: ApprovalRow, now: Date): Promise<void> {
  if (isTerminal(row.status)) {
    throw new CountersignError(row.status === "expired" ? "approval_expired" : "approval_not_pending");
  }
  if (row.expires_at.getTime() <= now.getTime()) {
    await expireLazily(deps, row.id, now);
    throw new CountersignError("approval_expired");
  }
}

function assertAgentStillValid({ row, agent }: DecisionTarget): void {
  if (agent === null || agent.status === "revoked") throw new CountersignError("agent_revoked");
  if (agent.status === "suspended") throw new CountersignError("agent_suspended");
  if (agent.credentialsVersion !== row.agent_credentials_version) {
    throw new CountersignError("agent_credentials_rotated");
  }
}

/** Why a request the decision found open could not be ended: the code for what it is now. */
async function whyNotDecided(tx: Queryable, userId: string, id: string, decidedAt: Date): Promise<CountersignError> {
  const now = await findForUser(tx, userId, id);
  if (now === null) return new CountersignError("approval_not_found");
  if (isTerminal(now.status)) return new CountersignError("approval_not_pending");
  return new CountersignError(
    now.expires_at.getTime() <= decidedAt.getTime() ? "approval_expired" : "approval_not_pending",
  );
}

/** Step 4: `sealed` is the request's sealed content, opened (null when it can no longer be). */
async function checkNumber(
  deps: ApprovalDeps,
  row: ApprovalRow,
  sealed: SealedApproval | null,
  typed: string | undefined,
  now: Date,
  actor: ActorContext,
): Promise<void> {
  if (typed === undefined) {
    throw new CountersignError("validation_failed", { message: "Type the number the agent shows to approve." });
  }
  if (sealed === null)
    throw new CountersignError("approval_not_pending", { message: "This request can no longer be read." });
  // T-1: compared in constant time; both are exactly six ASCII digits (the schema checks `typed`).
  if (timingSafeEqual(utf8(typed), utf8(sealed.number))) return;

  const counted = await deps.db.transaction(async (tx) => {
    const updated = await recordWrongNumber(tx, row.id, now);
    if (updated === null) return null;
    const rejected = updated.status === "rejected";
    if (rejected) await deps.notifier.changed(tx, updated, "approval.updated");
    await auditApproval(deps.audit, tx, {
      type: "approval.number_mismatch",
      row: updated,
      actor: { type: "user", id: row.user_id },
      requestId: actor.requestId,
      details: { attempt: updated.number_attempts },
      context: { ip: actor.ip, user_agent: actor.userAgent },
    });
    if (rejected) {
      await auditApproval(deps.audit, tx, {
        type: "approval.rejected",
        row: updated,
        actor: { type: "system" },
        requestId: actor.requestId,
      });
    }
    return updated;
  });
  if (counted === null) throw new CountersignError("approval_not_pending");
  const remaining = Math.max(0, MAX_NUMBER_ATTEMPTS - counted.number_attempts);
  throw new CountersignError("number_mismatch", {
    message:
      remaining === 0
        ? "The number did not match three times; the request was rejected."
        : `The number does not match. ${remaining} ${remaining === 1 ? "try" : "tries"} left.`,
    details: { attempts_remaining: remaining, status: counted.status },
  });
}

/** Step 6: `passkey` is the stored passkey the assertion names, null when none is. */
async function verifyAssertion(
  deps: ApprovalDeps,
  userId: string,
  passkey: PasskeyRow | null,
  response: unknown,
  challenge: string,
): Promise<PasskeyRow> {
  const { store, assertion } = deps.passkeys;
  // WebAuthn L3 §7.2 steps 5–6: a credential we know, of this person, not revoked.
  if (passkey === null || passkey.revokedAt !== null || passkey.userId !== userId) {
    throw new CountersignError("passkey_verification_failed");
  }
  const result = await assertion.verify(response, challenge, passkey);
  if (!result.ok) {
    if (result.counterRegressed) {
      await deps.db.transaction(async (tx) => {
        await store.flagCounterRegression(tx, passkey.id);
        await deps.audit.append(tx, {
          type: "passkey.counter_regressed",
          actor: { type: "system" },
          subject: { type: "passkey", id: passkey.id },
          userId,
          context: { stored_sign_count: passkey.signCount },
        });
      });
    }
    throw new CountersignError("passkey_verification_failed", { cause: result.error });
  }
  return { ...passkey, signCount: result.signCount, backedUp: result.backedUp };
}

function buildEvidence(
  deps: ApprovalDeps,
  row: ApprovalRow,
  input: DecisionInput,
  challenge: string,
  passkey: PasskeyRow,
  decidedAt: Date,
): DecisionEvidence {
  const response = (input.credential as { response: Record<string, unknown> }).response;
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  return {
    v: 1,
    request_id: row.id,
    decision: input.decision,
    display_payload_hash: input.display_payload_hash,
    nonce: input.nonce,
    challenge,
    rp_id: deps.config.webauthn.rpId,
    origin: deps.config.webauthn.origin,
    credential_id: passkey.credentialId,
    public_key_cose: toBase64Url(passkey.publicKey),
    sign_count: passkey.signCount,
    assertion: {
      authenticator_data: text(response.authenticatorData),
      client_data_json: text(response.clientDataJSON),
      signature: text(response.signature),
      user_handle: typeof response.userHandle === "string" ? response.userHandle : null,
    },
    decided_at: decidedAt.toISOString(),
    ...(input.context_unread === true ? { context_unread: true as const } : {}),
  };
}

/** The hash of an end-to-end request's display payload as a device that cannot decrypt shows it. */
async function unreadContextHash(deps: ApprovalDeps, row: ApprovalRow): Promise<string> {
  const sealed = await openApproval(deps.dataKeys, deps.db, row);
  if (sealed === null) {
    throw new CountersignError("approval_not_pending", { message: "This request can no longer be read." });
  }
  // `context: null` is what the device rendered; displayPayloadHash hashes it as JSON null.
  return displayPayloadHash({ ...sealed.display, context: null } as unknown as DisplayPayload);
}
