import { randomBytes } from "node:crypto";
import { fromBase64Url, importEd25519PublicKey, type VerifyRequestResult, verifyRequest } from "@countersign/protocol";
import { ensureTestUser, testUserId } from "../../../../test-support/test-users.ts";
import type { SigningJwk } from "../../../config/config.ts";
import type { Queryable } from "../../../db/database.ts";
import type { WebhookApproval } from "../webhook-payload.ts";
import type { ReceivedWebhook } from "./webhook-receiver.ts";

/** A valid id with the given prefix (`agt`, `apr`) and 22 random base64url characters. */
export function testId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString("base64url")}`;
}

/** What {@link insertTestApproval} writes; everything has a default. */
export interface TestApprovalOptions {
  status?: "approved" | "rejected" | "expired" | "canceled";
  callbackUrl?: string;
  decidedAt?: Date;
  userLabel?: string;
}

/**
 * Inserts a user, an agent and a decided approval request (raw SQL, columns of migration 008) so
 * that webhook rows have their foreign key, and returns the approval as the outbox takes it.
 */
export async function insertTestApproval(q: Queryable, options: TestApprovalOptions = {}): Promise<WebhookApproval> {
  const userId = testUserId(options.userLabel ?? "webhook-owner");
  await ensureTestUser(q, userId);
  const agentId = testId("agt");
  await q.query(
    `INSERT INTO agents (id, user_id, name, auth_mode, allowed_actions, created_at)
     VALUES ($1, $2, 'deploy bot', 'signed', ARRAY['deploy.production'], now())`,
    [agentId, userId],
  );
  const status = options.status ?? "approved";
  const decidedAt = options.decidedAt ?? new Date(Date.UTC(2026, 10, 21, 11, 59, 0));
  const createdAt = new Date(decidedAt.getTime() - 30_000);
  const approvalId = testId("apr");
  const displayPayloadHash = `sha256:${randomBytes(32).toString("hex")}`;
  const receipt = status === "approved" ? "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ0ZXN0In0.c2ln" : null;
  const reason = status === "rejected" ? "number_mismatch" : status === "expired" ? "expired" : null;
  const callbackUrl = options.callbackUrl ?? "https://hooks.example.com/countersign";
  await q.query(
    `INSERT INTO approval_requests
       (id, user_id, agent_id, agent_credentials_version, auth_mode, action_type, status, reason, sealed,
        display_payload_hash, ttl_seconds, callback_url, created_at, expires_at, decided_at, evidence, receipt)
     VALUES ($1, $2, $3, 1, 'signed', 'deploy.production', $4, $5, 'v1.test.sealed', $6, 300, $7, $8, $9, $10,
             $11::jsonb, $12)`,
    [
      approvalId,
      userId,
      agentId,
      status,
      reason,
      displayPayloadHash,
      callbackUrl,
      createdAt,
      new Date(createdAt.getTime() + 300_000),
      decidedAt,
      status === "approved" ? JSON.stringify({ test: true }) : null,
      receipt,
    ],
  );
  return {
    approvalId,
    userId,
    agentId,
    status,
    reason,
    actionType: "deploy.production",
    displayPayloadHash,
    decidedAt,
    receipt,
    callbackUrl,
  };
}

/** The public half of a signing JWK, as the JWKS publishes it. */
export function publicJwk(key: SigningJwk): { kty: "OKP"; crv: "Ed25519"; x: string; kid: string } {
  return { kty: "OKP", crv: "Ed25519", x: key.x, kid: key.kid };
}

/**
 * What a receiver does: verifies a received webhook with @countersign/protocol's `verifyRequest`
 * and nothing but the public JWK (looked up by `keyid`), at `nowSeconds`.
 */
export async function verifyReceivedWebhook(
  hook: ReceivedWebhook,
  jwk: { x: string; kid: string },
  nowSeconds: number,
  scheme = "http",
): Promise<VerifyRequestResult> {
  const queryAt = hook.target.indexOf("?");
  return verifyRequest(
    {
      method: hook.method,
      authority: hook.headers.host ?? "",
      path: queryAt === -1 ? hook.target : hook.target.slice(0, queryAt),
      query: queryAt === -1 ? "" : hook.target.slice(queryAt),
      scheme,
      headers: hook.headers,
      body: hook.body,
    },
    {
      now: nowSeconds,
      resolveKey: async (keyid) => {
        if (keyid !== jwk.kid) return null;
        const raw = fromBase64Url(jwk.x);
        return raw === null ? null : importEd25519PublicKey(raw);
      },
    },
  );
}
